"""The one USCC validator (统一社会信用代码, GB 32100-2015; DOMAIN §2).

Pure functions: no database, no request, no clock. Forms, the importer and any API call
:func:`validate`; the legacy-code override (a supervisor accepting a 2015 pilot code that fails
the check character) is a database fact handled by the services, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

#: 31 characters: the digits and the capitals without I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {char: index for index, char in enumerate(ALPHABET)}
#: W[i] = 3**i mod 31 for the 17 body characters.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18

_SEPARATORS = re.compile(r"[\s\-\u3000]+")


class UsccProblem(StrEnum):
    """Why a code is not a valid USCC."""

    EMPTY = "empty"
    LENGTH = "length"
    ALPHABET = "alphabet"
    CHECK = "check"


USCC_PROBLEM_MESSAGES = {
    UsccProblem.EMPTY: _l("Enter the unified social credit code."),
    UsccProblem.LENGTH: _l("A unified social credit code has exactly 18 characters."),
    UsccProblem.ALPHABET: _l(
        "A unified social credit code uses only digits and capital letters other than "
        "I, O, S, V and Z."),
    UsccProblem.CHECK: _l(
        "The check character (the last one) does not match: the code is probably mistyped."),
}


@dataclass(frozen=True)
class UsccResult:
    """The normalised code and, if it is not valid, the first problem found."""

    code: str
    problem: UsccProblem | None

    @property
    def is_valid(self) -> bool:
        """No problem at all."""
        return self.problem is None

    @property
    def fails_only_check(self) -> bool:
        """Well-formed but with a wrong check character: the shape of a legacy pilot code."""
        return self.problem is UsccProblem.CHECK


def normalise(raw: str | None) -> str:
    """Strip blanks and hyphens and upper-case, as people type codes from paper."""
    return _SEPARATORS.sub("", raw or "").upper()


def check_character(body: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(VALUES[char] * weight for char, weight in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str | None) -> UsccResult:
    """Normalise ``raw`` and check length, alphabet and check character, in that order."""
    code = normalise(raw)
    if not code:
        return UsccResult(code, UsccProblem.EMPTY)
    if len(code) != LENGTH:
        return UsccResult(code, UsccProblem.LENGTH)
    if any(char not in VALUES for char in code):
        return UsccResult(code, UsccProblem.ALPHABET)
    if check_character(code[:17]) != code[17]:
        return UsccResult(code, UsccProblem.CHECK)
    return UsccResult(code, None)


def is_valid(raw: str | None) -> bool:
    """Shortcut for :func:`validate`."""
    return validate(raw).is_valid


def complete(body: str) -> str:
    """Append the check character to a 17-character body (synthetic demo and test codes)."""
    body = normalise(body)
    if len(body) != 17:
        raise ValueError("a USCC body has 17 characters")
    return body + check_character(body)
