"""POST escalation events to responders' webhooks: signed, retried, with a stable delivery id.

A responder (police anti-fraud centre, bank, community, street, district command center) must
be able to tell a gridwatch escalation from a forged one, reject an old one replayed by someone
who captured it, and act once on an event that arrives several times. So every request carries:

    Content-Type: application/json
    X-Gridwatch-Timestamp: 1762175645
    X-Gridwatch-Signature: v1=<hex HMAC-SHA256(secret, message)>
    X-Gridwatch-Delivery: <delivery id>

    message = f"{timestamp}.{delivery_id}.".encode() + body

The timestamp is unix seconds, taken afresh for every attempt, and is inside the signed bytes,
so ``verify`` refuses a request whose timestamp is further than ``tolerance_s`` from the
receiver's clock (replay protection). The delivery id is the same for every attempt of one
delivery: the receiver dedupes on it. It is inside the signed bytes too, so a captured request
replayed under another ``X-Gridwatch-Delivery`` (to slip past that dedupe) fails verification.
During a key rotation the sender signs with the new and the old secret, ``v1=<new>,v1=<old>``,
and a receiver holding either key accepts the request.

Exceptions:

    GridwatchError
    └── SignatureError     verify: a request that is not provably from gridwatch, or too old

``deliver`` raises nothing for a failed delivery; it returns a ``DeliveryOutcome`` whose
``error`` is short enough for a dead-letter record. It retries what may succeed later
(connection errors, timeouts, 5xx, 408, 429) and gives up at once on what will not (other 4xx:
wrong URL or wrong key; 3xx: redirects are not followed, so a signed body never goes to a host
the responder did not register). Neither the body (it may hold phone numbers for police and
bank targets) nor the secret is ever logged or put in an outcome.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
from yarl import URL

from streams.errors import GridwatchError

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "TIMESTAMP_HEADER",
    "DeliveryOutcome",
    "RetryPolicy",
    "SignatureError",
    "deliver",
    "sign",
    "signed_headers",
    "verify",
]

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Gridwatch-Timestamp"
SIGNATURE_HEADER = "X-Gridwatch-Signature"
DELIVERY_HEADER = "X-Gridwatch-Delivery"
SIGNATURE_VERSION = "v1"

_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # int() would also take "+1_0", " 10" and non-ASCII digits
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_RETRY_AFTER = re.compile(r"[0-9]{1,9}")  # delta-seconds; an HTTP-date falls back to backoff
_MAX_ERROR_CHARS = 200

Secrets = bytes | Sequence[bytes]
Sleep = Callable[[float], Awaitable[object]]


class SignatureError(GridwatchError):
    """A request whose signature headers do not prove it came from gridwatch recently."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(secret: bytes, timestamp: int, delivery_id: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{delivery_id}.".encode() + body``: after ``v1=``."""
    message = f"{timestamp}.{delivery_id}.".encode() + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: Secrets, body: bytes, delivery_id: str, timestamp: int
) -> dict[str, str]:
    """The headers of one attempt; several secrets give several signatures (key rotation)."""
    secrets = [secret] if isinstance(secret, bytes) else list(secret)
    if not secrets:
        msg = "signing needs at least one secret"
        raise ValueError(msg)
    signatures = ",".join(
        f"{SIGNATURE_VERSION}={sign(s, timestamp, delivery_id, body)}" for s in secrets
    )
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signatures,
        DELIVERY_HEADER: delivery_id,
    }


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = 300,
) -> str:
    """Raise ``SignatureError`` unless one ``v1`` signature matches and the timestamp is fresh.

    The signature covers the timestamp, the ``X-Gridwatch-Delivery`` header and the body.
    Return the delivery id it covered: the value a receiver must dedupe on. The timestamp is
    checked first: an old request is refused even when its signature is right, since a
    captured request stays correctly signed forever.
    """
    timestamp = _fresh_timestamp(_header(headers, TIMESTAMP_HEADER), now, tolerance_s)
    candidates = _v1_signatures(_header(headers, SIGNATURE_HEADER))
    delivery_id = _header(headers, DELIVERY_HEADER)
    if not delivery_id.strip():
        msg = f"missing header {DELIVERY_HEADER}"
        raise SignatureError(msg)
    expected = sign(secret, timestamp, delivery_id, body).encode()
    # Compare with every candidate, not just until one matches, so the time taken says nothing.
    matches = [hmac.compare_digest(expected, c.encode()) for c in candidates]
    if not any(matches):
        raise SignatureError("signature mismatch")
    return delivery_id


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header by name, case-insensitively even for a plain dict; missing is an error."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    if value is None:
        msg = f"missing header {name}"
        raise SignatureError(msg)
    return value


def _fresh_timestamp(value: str, now: float, tolerance_s: float) -> int:
    if not _TIMESTAMP.fullmatch(value.strip()):
        raise SignatureError("malformed timestamp")
    timestamp = int(value)
    if now - timestamp > tolerance_s:
        raise SignatureError("timestamp too old")
    if timestamp - now > tolerance_s:
        raise SignatureError("timestamp in the future")
    return timestamp


def _v1_signatures(value: str) -> list[str]:
    """The ``v1`` hex digests in ``v1=a,v1=b``; other versions are skipped, not refused.

    A later sender may add ``v2=...`` next to ``v1``; a receiver that knows only ``v1`` must
    still accept it.
    """
    found: list[str] = []
    for part in value.split(","):
        version, sep, digest = part.strip().partition("=")
        if not sep or not version or not digest:
            raise SignatureError("malformed signature")
        if version != SIGNATURE_VERSION:
            continue
        if not _HEX_SHA256.fullmatch(digest.lower()):
            raise SignatureError("malformed signature")
        found.append(digest.lower())
    if not found:
        raise SignatureError("unsupported signature version")
    return found


@dataclass(frozen=True)
class RetryPolicy:
    """How hard ``deliver`` tries: ``attempts`` in all, full-jitter exponential backoff between.

    Full jitter (sleep uniformly in ``[0, min(max_delay_s, first_delay_s * 2**n)]``) spreads
    the retries of many deliveries that failed together, so a responder coming back up is not
    hit by all of them at once. ``rng`` is injectable so tests can predict the delays.
    """

    attempts: int = 6
    first_delay_s: float = 0.2
    max_delay_s: float = 30.0
    attempt_timeout_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            msg = f"attempts must be at least 1, not {self.attempts}"
            raise ValueError(msg)
        if self.first_delay_s < 0 or self.max_delay_s < 0 or self.attempt_timeout_s <= 0:
            msg = "delays must be >= 0 and attempt_timeout_s > 0"
            raise ValueError(msg)

    def delays(self) -> Iterator[float]:
        """The ``attempts - 1`` pauses between attempts, each drawn from ``rng``."""
        for n in range(self.attempts - 1):
            # 2**n is clamped so a large `attempts` cannot overflow a float.
            ceiling = min(self.max_delay_s, self.first_delay_s * 2.0 ** min(n, 64))
            yield self.rng.uniform(0, ceiling)


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one delivery; ``error`` is None when it was delivered."""

    delivered: bool
    attempts: int
    status: int | None
    error: str | None


@dataclass(frozen=True)
class _Attempt:
    status: int | None
    error: str | None  # None means a 2xx
    retryable: bool
    retry_after_s: float | None = None


async def deliver(
    session: aiohttp.ClientSession,
    url: str,
    secret: Secrets,
    body: bytes,
    delivery_id: str,
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> DeliveryOutcome:
    """POST ``body`` to ``url`` until a 2xx, a permanent failure, or ``policy.attempts`` tries.

    Every attempt is signed with a fresh timestamp (a retry after minutes would otherwise be
    refused as a replay) and carries the same ``delivery_id``.
    """
    delays = policy.delays()
    where = _where(url)
    for attempt in range(1, policy.attempts + 1):
        headers = signed_headers(secret, body, delivery_id, int(clock()))
        result = await _post(session, url, headers, body, policy.attempt_timeout_s)
        if result.error is None:
            return DeliveryOutcome(True, attempt, result.status, None)
        if not result.retryable:
            log.warning("delivery %s to %s failed: %s", delivery_id, where, result.error)
            return DeliveryOutcome(False, attempt, result.status, result.error)
        if attempt < policy.attempts:
            pause = _pause(result.retry_after_s, next(delays), policy.max_delay_s)
            log.info(
                "delivery %s to %s attempt %d failed (%s); retrying in %.2fs",
                delivery_id,
                where,
                attempt,
                result.error,
                pause,
            )
            await sleep(pause)
    error = f"gave up after {policy.attempts} attempts: {result.error}"
    log.warning("delivery %s to %s failed: %s", delivery_id, where, error)
    return DeliveryOutcome(False, policy.attempts, result.status, error)


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    body: bytes,
    timeout_s: float,
) -> _Attempt:
    """One attempt, classified; a network failure is a result here, not an exception."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as response:
            return _classify(response.status, response.headers.get("Retry-After"))
    except TimeoutError:
        return _Attempt(None, f"timed out after {timeout_s:g}s", retryable=True)
    except aiohttp.InvalidURL:
        return _Attempt(None, "invalid URL", retryable=False)
    except aiohttp.ClientConnectorError as exc:
        error = f"cannot connect to {exc.host}:{exc.port}: {_os_reason(exc.os_error)}"
        return _Attempt(None, error[:_MAX_ERROR_CHARS], retryable=True)
    except aiohttp.ClientError as exc:
        # Only the class name: some aiohttp errors quote the URL, which may carry a token.
        return _Attempt(None, f"connection error: {type(exc).__name__}", retryable=True)


def _os_reason(error: OSError) -> str:
    """The OS's words ("Connection refused"), not asyncio's "Connect call failed (addr)"."""
    if error.errno is not None and error.errno > 0:  # a DNS failure's errno is negative
        return os.strerror(error.errno)
    return error.strerror or type(error).__name__


def _classify(status: int, retry_after: str | None) -> _Attempt:
    if 200 <= status < 300:
        return _Attempt(status, None, retryable=False)
    if status >= 500 or status in (408, 429):
        return _Attempt(
            status, f"HTTP {status}", retryable=True, retry_after_s=_seconds(retry_after)
        )
    if 300 <= status < 400:
        return _Attempt(status, f"HTTP {status}: redirects are not followed", retryable=False)
    return _Attempt(status, f"HTTP {status}: not retried", retryable=False)


def _seconds(retry_after: str | None) -> float | None:
    if retry_after is None or not _RETRY_AFTER.fullmatch(retry_after.strip()):
        return None
    return float(retry_after)


def _pause(retry_after_s: float | None, backoff_s: float, max_delay_s: float) -> float:
    """The responder's Retry-After when it gave one, else the backoff; never over the cap."""
    return min(retry_after_s if retry_after_s is not None else backoff_s, max_delay_s)


def _where(url: str) -> str:
    """The URL's origin, for logs: its path or query may carry a responder's token."""
    try:
        return str(URL(url).origin())
    except ValueError:
        return "<invalid URL>"
