"""The USCC validator against DOMAIN §2's examples (GB 32100-2015)."""

import pytest

from app.firms import uscc
from app.firms.uscc import UsccProblem


@pytest.mark.parametrize("code", [
    "91310110666007217T",
    "91310115591693856A",
    "91320583314159268J",
])
def test_domain_examples_are_valid(code):
    assert uscc.validate(code).problem is None
    assert uscc.is_valid(code)


@pytest.mark.parametrize("code,problem", [
    ("91310110666007217A", UsccProblem.CHECK),
    ("9131011066600721", UsccProblem.LENGTH),
    ("9131011066600721I7", UsccProblem.ALPHABET),
    ("I1310110666007217T", UsccProblem.ALPHABET),
    ("91310110666007217O", UsccProblem.ALPHABET),
    ("91350100M0001TGQXM", UsccProblem.CHECK),
    ("913101106660072170T", UsccProblem.LENGTH),
    ("", UsccProblem.EMPTY),
    (None, UsccProblem.EMPTY),
])
def test_domain_counter_examples_are_refused_with_the_right_reason(code, problem):
    assert uscc.validate(code).problem is problem
    assert not uscc.is_valid(code)


@pytest.mark.parametrize("letter", "IOSVZ")
def test_every_excluded_letter_is_refused(letter):
    assert uscc.validate("9131011066600721" + letter + "T").problem is UsccProblem.ALPHABET


def test_spaces_hyphens_and_lower_case_are_normalised_before_checking():
    result = uscc.validate(" 9132-0583 3141 5926 8j ")
    assert result.code == "91320583314159268J"
    assert result.is_valid


def test_weights_are_powers_of_three_modulo_31():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_check_character_can_be_zero_and_completes_a_body():
    assert uscc.complete("91320583314159268") == "91320583314159268J"
    body = next(f"91320583MA{n:07d}" for n in range(1000)
                if uscc.check_character(f"91320583MA{n:07d}") == "0")
    assert uscc.is_valid(body + "0")


def test_legacy_pilot_code_fails_only_the_check_character():
    assert uscc.validate("91350100M0001TGQXM").fails_only_check
    assert not uscc.validate("9131011066600721").fails_only_check
