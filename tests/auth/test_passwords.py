"""The password policy of DOMAIN §8, as a table."""

import pytest

from app.auth.passwords import (
    generate_temporary_password,
    hash_password,
    password_problems,
    verify_password,
)


@pytest.mark.parametrize("password,acceptable", [
    ("Abcdef1!", True),            # 8 chars, four classes
    ("abcdef12!", True),           # three classes
    ("ABCDEF12", False),           # two classes
    ("abcdefgh", False),           # one class
    ("Ab1!", False),               # too short
    ("Abc1!xy", False),            # 7 characters
    ("Passw0rd!", False),          # on the weak list
    ("P@SSW0RD", False),           # weak list, any case
    ("zhang.san#2026", False),     # contains the username
    ("长城Abc123!", True),          # non-ASCII letters are fine
])
def test_password_policy(password, acceptable):
    assert (password_problems(password, "zhang.san") == []) is acceptable


def test_argon2_hash_verifies_only_the_right_password():
    hashed = hash_password("Right#Pass1")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "Right#Pass1")
    assert not verify_password(hashed, "Wrong#Pass1")
    assert not verify_password(None, "Right#Pass1")


def test_temporary_passwords_meet_the_policy_and_differ():
    generated = {generate_temporary_password() for _ in range(20)}
    assert len(generated) == 20
    assert all(password_problems(p, "someone") == [] for p in generated)
