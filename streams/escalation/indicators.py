"""Fraud indicators in report text: the scammer's phone numbers, bank accounts and links.

The same number, account or link in reports from several grids is how a fraud campaign shows
itself (``campaigns.py``). Extraction is deliberately narrow: a real hotline (95588, 96110), a
resident ID number or an ordinary e-mail address must never become an indicator, or every
anti-fraud reminder and every victim's own ID would look like a campaign.

An ``Indicator`` holds the raw value, so it stays inside the process: what leaves it is the
keyed ``indicator_digest`` (to group sightings) and ``masked`` (for people to read).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal, NamedTuple

__all__ = ["Indicator", "IndicatorKind", "extract_indicators", "indicator_digest", "masked"]

IndicatorKind = Literal["phone", "bank_account", "link"]


@dataclass(frozen=True, slots=True)
class Indicator:
    """One phone number, bank account or link, normalised so that spellings compare equal.

    Values: a mobile as 11 digits, a 400/800 number as 10 digits, a landline as
    ``0574-87654321``, an account as its digits, a link as lowercase host (no ``www.``, no
    scheme) plus its path, without query or fragment.
    """

    kind: IndicatorKind
    value: str


# Chinese punctuation ends a link: after NFKC "，" and "！" would be "," and "!", which a URL
# may contain, so they become line breaks first (nothing below matches across a line break).
_BREAKS = str.maketrans(dict.fromkeys("，。、；：！？（）【】《》〈〉「」『』“”‘’…—～·｜", "\n"))
# Mobiles, optionally with +86/0086/86 and spaces or dashes between the 3-4-4 groups.
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])"
)
# Landlines: area code (010, 02x or a 4-digit one like 0574), then 7 or 8 digits.
_LANDLINE = re.compile(
    r"(?<![0-9])\(?(0(?:10|2[0-9]|[3-9][0-9]{2}))\)?[ -]?([2-9][0-9]{2,3})[ -]?([0-9]{4})(?![0-9])"
)
# 400/800 service numbers, written with separators anywhere. The 5-digit 95xxx/96xxx codes
# (95588, 96110) are real bank and police hotlines: no pattern here matches 5 digits.
_SERVICE = re.compile(r"(?<![0-9])([48]00)((?:[ -]?[0-9]){7})(?![0-9])")
# Cards: 16-19 digits, or 4-digit groups; a trailing X is taken so an ID number is seen whole.
_CARD = re.compile(
    r"(?<![0-9])(?:[1-9][0-9]{15,18}[Xx]?|[1-9][0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -][0-9]{1,3})?)"
    r"(?![0-9])"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Bare domains only with TLDs that scam links use; with a scheme or www. any host counts.
_TLDS = (
    "com|net|org|cn|top|xyz|vip|cc|app|info|biz|club|shop|site|online|store|icu|fun|ltd|live"
    "|link|pro|work|wang|ink|io|me|tv|co|asia|mobi"
)
_LINK = re.compile(
    rf"(?<![a-z0-9@.-])(?:https?://(?P<host>{_LABEL}(?:\.{_LABEL})*)"
    rf"|(?P<www>www\.{_LABEL}(?:\.{_LABEL})+)"
    rf"|(?P<bare>(?:{_LABEL}\.)+(?:{_TLDS}))(?!\.?[a-z0-9-]))"
    r"(?P<port>:[0-9]{1,5})?(?P<tail>[/?#][a-z0-9._~/?#@!$&*+,;=%:-]*)?",
    re.IGNORECASE | re.ASCII,
)
# Sentence punctuation that ends a link written in ASCII ("see x.com/a."), and a bare "/".
_LINK_TRAILING = ".,;:!*/"
_SEPARATORS = str.maketrans("", "", " -()")


class _Found(NamedTuple):
    start: int
    end: int
    indicator: Indicator


def extract_indicators(text: str) -> tuple[Indicator, ...]:
    """Every distinct indicator in ``text``, in order of first appearance.

    Where two matches overlap (a phone number inside a link's path), the one that starts first
    wins, then the longer, then the earlier in ``_MATCHERS``: one stretch of text is one
    indicator. An ID number is no candidate at all.
    """
    return _full_extraction(text) if _may_hold_one(text) else ()


def _full_extraction(text: str) -> tuple[Indicator, ...]:
    normal = unicodedata.normalize("NFKC", text.translate(_BREAKS))
    found = sorted(_candidates(normal), key=lambda f: (f.start, f.start - f.end))
    kept: list[Indicator] = []
    end = 0
    for candidate in found:
        if candidate.start >= end:
            kept.append(candidate.indicator)
            end = candidate.end
    return tuple(dict.fromkeys(kept))


def _may_hold_one(text: str) -> bool:
    """Whether ``text`` could hold an indicator; False for most reports, at a tenth of the cost.

    Every number the matchers take has at least 10 digits (a mobile 11, a landline or a
    400/800 number 10, an account 16) and every link a "." or a "/". Without a character that
    NFKC turns into ASCII ("１", "．", "⑩"), the normalised text has no more ASCII digits, dots
    or slashes than ``text`` itself, so counting them here is enough.
    """
    if _ascii_lookalikes().search(text):
        return True
    return "." in text or "/" in text or sum(map(text.count, "0123456789")) >= 10  # noqa: PLR2004


@cache
def _ascii_lookalikes() -> re.Pattern[str]:
    """Any character outside ASCII whose compatibility form holds ASCII alphanumerics or "./:".

    The ~1,100 of the Basic Multilingual Plane are found once (a few ms) from Python's own
    Unicode tables; any character beyond it counts too (rare in reports, and listing the 800
    there would make the class a list the regex engine walks, 90 times slower).
    """
    wanted = re.compile(r"[0-9A-Za-z./:]")
    chars = [
        chr(code)
        for code in range(0x80, 0x10000)
        if unicodedata.decomposition(chr(code))
        and wanted.search(unicodedata.normalize("NFKD", chr(code)))
    ]
    return re.compile("[" + "".join(re.escape(char) for char in chars) + "\U00010000-\U0010ffff]")


def _candidates(text: str) -> Iterator[_Found]:
    for pattern, build in _MATCHERS:
        for match in pattern.finditer(text):
            indicator = build(match)
            if indicator is not None:
                yield _Found(match.start(), match.end(), indicator)


def _mobile(match: re.Match[str]) -> Indicator:
    return Indicator("phone", "".join(match.groups()))


def _landline(match: re.Match[str]) -> Indicator:
    area, head, tail = match.groups()
    return Indicator("phone", f"{area}-{head}{tail}")


def _service(match: re.Match[str]) -> Indicator:
    return Indicator("phone", match.group().translate(_SEPARATORS))


def _card(match: re.Match[str]) -> Indicator | None:
    digits = match.group().translate(_SEPARATORS)
    # A trailing X is an ID number's check digit (or a typo): never an account.
    if digits[-1] in "Xx" or _is_resident_id(digits):
        return None
    return Indicator("bank_account", digits)


def _is_resident_id(digits: str) -> bool:
    """18 characters, a province code 1x-8x and a real birth date from 1900 to 2029."""
    if len(digits) != 18 or digits[0] not in "12345678":
        return False
    year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    if not 1900 <= year <= 2029:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _link(match: re.Match[str]) -> Indicator:
    host = (match["host"] or match["www"] or match["bare"]).lower().removeprefix("www.")
    # Query and fragment dropped: they carry per-victim invite codes and session tokens.
    path = re.split(r"[?#]", match["tail"] or "", maxsplit=1)[0].rstrip(_LINK_TRAILING)
    return Indicator("link", f"{host}{match['port'] or ''}{path}")


# Order breaks ties (same start, same length; the sort is stable): a link beats a number in it.
_MATCHERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Indicator | None]], ...] = (
    (_LINK, _link),
    (_MOBILE, _mobile),
    (_LANDLINE, _landline),
    (_SERVICE, _service),
    (_CARD, _card),
)


def indicator_digest(indicator: Indicator, key: bytes) -> str:
    """A keyed, pseudonymous id: the same indicator and key always give the same 32 hex chars.

    Phone numbers are a small space (a plain hash of every mobile can be tabled in hours), so
    the digest is an HMAC: without the key it cannot be reversed by trying numbers.
    """
    if not key:
        msg = "an empty key makes digests reversible by hashing every phone number"
        raise ValueError(msg)
    message = f"{indicator.kind}:{indicator.value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def masked(indicator: Indicator) -> str:
    """A form safe for logs and dashboards: recognisable, never enough to dial or pay.

    ``138****5678``, ``0574-****21``, ``****1234``; a link keeps only its host, plus ``/…``
    when it had a path (links are not personal data, but paths can carry tokens).
    """
    value = indicator.value
    if indicator.kind == "bank_account":
        return "****" + value[-4:]
    if indicator.kind == "link":
        host, slash, _ = value.partition("/")
        return host.partition(":")[0] + ("/…" if slash else "")
    area, dash, local = value.partition("-")
    if dash:
        return f"{area}-****{local[-2:]}"
    return value[:3] + "****" + value[-4:]
