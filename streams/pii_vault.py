"""Where raw personal data may live after intake: sealed, for the responders who need it.

Intake masks phone and ID numbers in everything it forwards. The police anti-fraud centre and
the victim's bank still need the raw numbers within minutes, so intake also seals them (the
raw ``contact_phone`` and ``text``) with Fernet (AES-128-CBC + HMAC-SHA256) under the PII key;
the sealed token travels with the report, its findings and its escalation, and only the
notifier opens it, for targets whose policy says ``reveal_pii``. Anything else that reads the
topics, logs or dashboards sees masked values and an opaque token.

The same key (through a derived sub-key) makes the digests of fraud indicators, so the same
scam number can be recognised across reports without the number travelling.
"""

from __future__ import annotations

import hashlib
import json
import logging

from cryptography.fernet import Fernet, InvalidToken

from schemas.grid_report import GridReportV1, IndicatorRef
from schemas.pii import mask_pii_text
from streams.escalation.indicators import extract_indicators, indicator_digest, masked

__all__ = ["DEV_PII_KEY", "PiiVault", "SealedPii"]

log = logging.getLogger(__name__)

# Public, in the repository: for demos and tests only. The worker warns while it is in use.
DEV_PII_KEY = "lcEc7Eh5g8h7g9ebhoAQUMr7qcxfSpLQOxTX2yew_IM="

SealedPii = dict[str, str | None]


class PiiVault:
    """Seals and opens raw personal data, and digests fraud indicators, under one key."""

    def __init__(self, key: str | None = None) -> None:
        self.uses_dev_key = key is None
        raw_key = (key or DEV_PII_KEY).encode()
        self._fernet = Fernet(raw_key)  # raises ValueError for a malformed key: fail at start
        self._indicator_key = hashlib.sha256(b"gridwatch indicators|" + raw_key).digest()

    def seal(self, report: GridReportV1) -> str | None:
        """The raw contact phone and text, encrypted; None when the report has neither."""
        if report.contact_phone is None and mask_pii_text(report.text) == report.text:
            return None
        raw = {"contact_phone": report.contact_phone, "text": report.text}
        return self._fernet.encrypt(json.dumps(raw, ensure_ascii=False).encode()).decode()

    def open(self, token: str) -> SealedPii | None:
        """The sealed values, or None when the token was sealed under another key."""
        try:
            opened: SealedPii = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            log.warning("a sealed PII token does not open with this key (key rotated?)")
            return None
        return opened

    def indicators(self, text: str) -> tuple[IndicatorRef, ...]:
        """The fraud indicators in ``text`` (raw), as keyed digests and masked forms."""
        return tuple(
            IndicatorRef(
                kind=found.kind,
                digest=indicator_digest(found, self._indicator_key),
                masked=masked(found),
            )
            for found in extract_indicators(text)
        )
