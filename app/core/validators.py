"""Input validators shared by several domains' forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(value: str | None) -> str:
    """Strip blanks, hyphens and a leading +86 so people can type numbers as they write them."""
    digits = re.sub(r"[\s\-]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def is_mainland_mobile(value: str | None) -> bool:
    """An 11-digit mainland China mobile number (1[3-9]xxxxxxxxx)."""
    return bool(MAINLAND_MOBILE.match(normalise_mobile(value)))


class MainlandMobile:
    """WTForms validator for optional or required mainland mobile numbers."""

    def __init__(self, message=None):
        self.message = message or _l("Enter an 11-digit mainland mobile number, e.g. 13812345678.")

    def __call__(self, form, field):
        if field.data and not is_mainland_mobile(field.data):
            raise ValidationError(self.message)


def mask_mobile(value: str | None) -> str:
    """Masked for lists (DOMAIN §8): ``138****1234``."""
    digits = normalise_mobile(value)
    if len(digits) < 7:
        return "****" if digits else ""
    return f"{digits[:3]}****{digits[-4:]}"
