"""Password hashing (Argon2id) and the password policy of DOMAIN §8."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

_hasher = PasswordHasher()

#: Commonly guessed passwords that satisfy the character rules yet must still be refused.
WEAK_PASSWORDS = frozenset(
    p.lower()
    for p in (
        "Password1!", "Passw0rd!", "P@ssw0rd", "P@ssword1", "Admin@123", "Admin123!",
        "Aa123456!", "Aa123456", "Abc@1234", "Abc12345!", "Qwer1234!", "Qwe@1234",
        "1qaz@WSX", "1qaz!QAZ", "Zxcv1234!", "Welcome1!", "Root@123", "Test@123",
        "Huawei@123", "Admin@2026", "Password@123", "Ruyi@123", "Kunshan@123",
    )
)

_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Argon2id hash with a per-password salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-effort check: unknown users are verified against a dummy hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hashing parameters have been raised since this hash was made."""
    return _hasher.check_needs_rehash(password_hash)


def character_classes(password: str) -> int:
    """How many of upper, lower, digit and symbol the password uses."""
    return sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def password_problems(password: str, username: str, min_length: int = 8) -> list:
    """Every policy rule the password breaks (an empty list means it is acceptable)."""
    problems = []
    if len(password) < min_length:
        problems.append(_l("Use at least %(n)d characters.", n=min_length))
    if character_classes(password) < 3:
        problems.append(
            _l("Use at least three of: upper-case letters, lower-case letters, digits, symbols.")
        )
    if username and username.lower() in password.lower():
        problems.append(_l("The password must not contain the username."))
    if password.lower() in WEAK_PASSWORDS:
        problems.append(_l("This password is too common; choose another."))
    return problems


def generate_temporary_password(length: int = 12) -> str:
    """A random password that satisfies the policy, for resets (shown once to the admin)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if character_classes(candidate) == 4:
            return candidate
