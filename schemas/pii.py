"""Masking of personal data: phone numbers and Chinese resident ID numbers.

Masking is done by the schema on dump (see ``grid_report.py``), not by its callers, so no
path out of intake can forget it. A masked value keeps just enough to be recognised by the
person it belongs to (``138****5678``), never enough to be dialled or looked up.
"""

from __future__ import annotations

import re

__all__ = ["mask_phone", "mask_pii_text"]

# Resident ID: 17 digits and a check digit (or X); first-generation IDs have 15 digits.
_ID_NUMBER = re.compile(r"(?<![0-9])(\d{6})\d{8,11}([0-9Xx])(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86 and spaces or dashes between the groups.
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?![0-9])")
# Landlines with an area code (Ningbo's is 0574), e.g. 0574-87654321.
_LANDLINE = re.compile(r"(?<![0-9])(0\d{2,3})[ -]?\d{3,4}(\d{4})(?![0-9])")
_DIGIT = re.compile(r"\d")
# The fewest digits any pattern above masks: a landline's 3 + 3 + 4.
_FEWEST_DIGITS = 10


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits of a phone number, star the rest."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 8:
        return "*" * len(digits)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_pii_text(text: str) -> str:
    """Mask ID numbers and phone numbers inside free text; cheap with fewer than 10 digits.

    Most reports have a few digits ("3号楼2单元"): counting them costs a fifteenth of the
    three substitutions.
    """
    if len(_DIGIT.findall(text)) < _FEWEST_DIGITS:
        return text
    text = _ID_NUMBER.sub(r"\1********\2", text)
    text = _MOBILE.sub(r"\1****\2", text)
    return _LANDLINE.sub(r"\1-****\2", text)
