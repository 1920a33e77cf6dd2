"""Signing, verification and delivery, against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from streams.escalation.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryOutcome,
    RetryPolicy,
    SignatureError,
    deliver,
    sign,
    signed_headers,
    verify,
)

SECRET = b"whsec-test"
T = 1_762_175_645
BODY = b'{"type":"opened","escalation_id":"esc-1","contact_phone":"13800138000"}'

# --- signing and verification -------------------------------------------------------------


def test_sign_is_hmac_sha256_of_timestamp_dot_delivery_id_dot_body() -> None:
    # Computed independently:
    # printf '1762175645.d-1.{"type":"opened"}' | openssl dgst -sha256 -hmac whsec-test
    expected = "d39c9c1f597de5d0427116ec539fdd7b944b3673424d20047c7da5c43c151765"
    assert sign(SECRET, T, "d-1", b'{"type":"opened"}') == expected


def test_sign_covers_the_delivery_id() -> None:
    assert sign(SECRET, T, "d-1", BODY) != sign(SECRET, T, "d-2", BODY)


def test_signed_headers_carry_timestamp_v1_signature_and_delivery_id() -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T)
    assert headers == {
        "Content-Type": "application/json",
        "X-Gridwatch-Timestamp": str(T),
        "X-Gridwatch-Signature": f"v1={sign(SECRET, T, 'd-1', BODY)}",
        "X-Gridwatch-Delivery": "d-1",
    }


def test_signed_headers_with_several_secrets_sign_with_each_in_order() -> None:
    headers = signed_headers([b"new", b"old"], BODY, "d-1", T)
    new, old = sign(b"new", T, "d-1", BODY), sign(b"old", T, "d-1", BODY)
    assert headers[SIGNATURE_HEADER] == f"v1={new},v1={old}"
    with pytest.raises(ValueError, match="at least one secret"):
        signed_headers([], BODY, "d-1", T)


@pytest.mark.parametrize("now", [T, T + 300, T - 300])
def test_verify_accepts_its_own_signature_within_tolerance(now: int) -> None:
    assert verify(SECRET, signed_headers(SECRET, BODY, "d-1", T), BODY, now=now) == "d-1"


def test_verify_reads_header_names_case_insensitively() -> None:
    headers = {k.lower(): v for k, v in signed_headers(SECRET, BODY, "d-1", T).items()}
    verify(SECRET, headers, BODY, now=T)


def _reason(
    headers: dict[str, str], body: bytes = BODY, secret: bytes = SECRET, now: float = T
) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(secret, headers, body, now=now)
    return caught.value.reason


def test_verify_rejects_a_tampered_body() -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T)
    assert (
        _reason(headers, body=BODY.replace(b"13800138000", b"13900139000")) == "signature mismatch"
    )


def test_verify_rejects_a_wrong_secret() -> None:
    assert _reason(signed_headers(b"other", BODY, "d-1", T)) == "signature mismatch"


def test_verify_rejects_a_timestamp_moved_without_resigning() -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T) | {TIMESTAMP_HEADER: str(T + 1)}
    assert _reason(headers) == "signature mismatch"


@pytest.mark.parametrize("delivery_id", ["d-2", "d-1 again", "D-1", "d-1.", "d-"])
def test_verify_rejects_the_same_request_under_a_changed_delivery_id(delivery_id: str) -> None:
    # A captured request replayed under another delivery id would slip past the dedupe.
    headers = signed_headers(SECRET, BODY, "d-1", T) | {DELIVERY_HEADER: delivery_id}
    assert _reason(headers) == "signature mismatch"


@pytest.mark.parametrize(
    ("now", "reason"), [(T + 301, "timestamp too old"), (T - 301, "timestamp in the future")]
)
def test_verify_rejects_a_timestamp_beyond_tolerance(now: int, reason: str) -> None:
    assert _reason(signed_headers(SECRET, BODY, "d-1", T), now=now) == reason


def test_verify_honours_a_custom_tolerance() -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T)
    verify(SECRET, headers, BODY, now=T + 900, tolerance_s=900)
    with pytest.raises(SignatureError, match="too old"):
        verify(SECRET, headers, BODY, now=T + 31, tolerance_s=30)


@pytest.mark.parametrize("missing", [TIMESTAMP_HEADER, SIGNATURE_HEADER, DELIVERY_HEADER])
def test_verify_rejects_missing_headers(missing: str) -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T)
    del headers[missing]
    assert _reason(headers) == f"missing header {missing}"


@pytest.mark.parametrize("delivery_id", ["", " "])
def test_verify_rejects_an_empty_delivery_id_even_when_signed(delivery_id: str) -> None:
    headers = signed_headers(SECRET, BODY, delivery_id, T)
    assert _reason(headers) == "missing header X-Gridwatch-Delivery"


@pytest.mark.parametrize("timestamp", ["", "abc", "+1762175645", "1_762_175_645", "1.5", "١٢"])
def test_verify_rejects_a_malformed_timestamp(timestamp: str) -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T) | {TIMESTAMP_HEADER: timestamp}
    assert _reason(headers) == "malformed timestamp"


@pytest.mark.parametrize(
    "signature", ["", "v1", "v1=", "=abc", "v1=zz", "v1=" + "a" * 63, "v1=" + "é" * 64, ",v1=x"]
)
def test_verify_rejects_a_malformed_signature(signature: str) -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T) | {SIGNATURE_HEADER: signature}
    assert _reason(headers) == "malformed signature"


def test_verify_rejects_an_unknown_signature_version() -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T)
    headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].replace("v1=", "v2=")
    assert _reason(headers) == "unsupported signature version"


def test_verify_accepts_any_of_several_signatures_so_keys_can_rotate() -> None:
    rotating = signed_headers([b"new", b"old"], BODY, "d-1", T)
    verify(b"old", rotating, BODY, now=T)  # a responder still on the old key
    verify(b"new", rotating, BODY, now=T)  # and one that has switched
    assert _reason(rotating, secret=b"neither") == "signature mismatch"


def test_verify_skips_unknown_versions_next_to_v1() -> None:
    headers = signed_headers(SECRET, BODY, "d-1", T)
    headers[SIGNATURE_HEADER] = f"v2={'0' * 64}, {headers[SIGNATURE_HEADER]}"
    verify(SECRET, headers, BODY, now=T)


# --- retry policy ------------------------------------------------------------------------


def test_delays_are_full_jitter_exponential_and_capped() -> None:
    policy = RetryPolicy(attempts=10, first_delay_s=0.5, max_delay_s=4, rng=random.Random(1))
    delays = list(policy.delays())
    assert len(delays) == 9
    for n, delay in enumerate(delays):
        assert 0 <= delay <= min(4, 0.5 * 2**n)
    assert max(delays[3:]) > 2  # the cap, not the first delay, bounds the late ones


def test_delays_come_from_the_injected_rng() -> None:
    first = list(RetryPolicy(rng=random.Random(7)).delays())
    assert first == list(RetryPolicy(rng=random.Random(7)).delays())
    assert first != list(RetryPolicy(rng=random.Random(8)).delays())


def test_a_huge_attempt_count_does_not_overflow() -> None:
    delays = RetryPolicy(attempts=2000, rng=random.Random(1)).delays()
    assert all(0 <= d <= 30 for d in delays)


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"first_delay_s": -1}, {"max_delay_s": -1}, {"attempt_timeout_s": 0}],
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# --- delivery against a real server ------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str] | None = None
    delay_s: float = 0


Serve = Callable[..., Awaitable[tuple[str, list[Seen]]]]


class FakeSleep:
    """Records the pauses ``deliver`` asks for, without pausing."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.slept.append(delay)


def ticking_clock(start: int = T) -> Callable[[], float]:
    ticks: Iterator[int] = iter(range(start, start + 1000))
    return lambda: next(ticks)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a server answering with the given replies in turn (the last one repeats)."""
    servers: list[TestServer] = []

    async def start(*replies: Reply) -> tuple[str, list[Seen]]:
        seen: list[Seen] = []

        async def handler(request: web.Request) -> web.Response:
            seen.append(Seen(dict(request.headers), await request.read()))
            reply = replies[min(len(seen), len(replies)) - 1]
            await asyncio.sleep(reply.delay_s)
            return web.Response(status=reply.status, headers=reply.headers)

        app = web.Application()
        app.router.add_post("/{target}", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/street")), seen

    yield start
    for server in servers:
        await server.close()


async def test_delivers_on_the_first_try(session: aiohttp.ClientSession, serve: Serve) -> None:
    url, seen = await serve(Reply(200))
    sleep = FakeSleep()
    outcome = await deliver(
        session, url, SECRET, BODY, "d-1", RetryPolicy(), sleep=sleep, clock=lambda: T + 0.9
    )
    assert outcome == DeliveryOutcome(delivered=True, attempts=1, status=200, error=None)
    assert sleep.slept == []
    [request] = seen
    assert request.body == BODY
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[TIMESTAMP_HEADER] == str(T)  # whole seconds
    assert request.headers[DELIVERY_HEADER] == "d-1"
    assert verify(SECRET, request.headers, request.body, now=T) == "d-1"


async def test_retries_503_with_the_same_id_freshly_signed_after_the_policy_delays(
    session: aiohttp.ClientSession, serve: Serve
) -> None:
    url, seen = await serve(Reply(503), Reply(503), Reply(204))
    sleep = FakeSleep()
    policy = RetryPolicy(rng=random.Random(42))
    outcome = await deliver(
        session, url, SECRET, BODY, "d-7", policy, sleep=sleep, clock=ticking_clock()
    )
    assert outcome == DeliveryOutcome(delivered=True, attempts=3, status=204, error=None)
    assert [s.headers[DELIVERY_HEADER] for s in seen] == ["d-7"] * 3
    assert [s.headers[TIMESTAMP_HEADER] for s in seen] == [str(T), str(T + 1), str(T + 2)]
    assert len({s.headers[SIGNATURE_HEADER] for s in seen}) == 3
    for n, request in enumerate(seen):
        verify(SECRET, request.headers, request.body, now=T + n, tolerance_s=0)
    assert sleep.slept == list(RetryPolicy(rng=random.Random(42)).delays())[:2]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
async def test_retryable_statuses_are_retried(
    session: aiohttp.ClientSession, serve: Serve, status: int
) -> None:
    url, seen = await serve(Reply(status), Reply(200))
    outcome = await deliver(session, url, SECRET, BODY, "d-1", RetryPolicy(), sleep=FakeSleep())
    assert (outcome.delivered, outcome.attempts, len(seen)) == (True, 2, 2)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_other_4xx_is_permanent_and_not_retried(
    session: aiohttp.ClientSession, serve: Serve, status: int
) -> None:
    url, seen = await serve(Reply(status), Reply(200))
    sleep = FakeSleep()
    outcome = await deliver(session, url, SECRET, BODY, "d-1", RetryPolicy(), sleep=sleep)
    assert outcome == DeliveryOutcome(False, 1, status, f"HTTP {status}: not retried")
    assert (len(seen), sleep.slept) == (1, [])


async def test_redirects_are_not_followed(session: aiohttp.ClientSession, serve: Serve) -> None:
    url, seen = await serve(Reply(307, {"Location": "/elsewhere"}), Reply(200))
    outcome = await deliver(session, url, SECRET, BODY, "d-1", RetryPolicy(), sleep=FakeSleep())
    assert outcome == DeliveryOutcome(False, 1, 307, "HTTP 307: redirects are not followed")
    assert len(seen) == 1


async def test_gives_up_after_the_last_attempt(
    session: aiohttp.ClientSession, serve: Serve
) -> None:
    url, seen = await serve(Reply(503))
    sleep = FakeSleep()
    outcome = await deliver(session, url, SECRET, BODY, "d-1", RetryPolicy(attempts=3), sleep=sleep)
    assert outcome == DeliveryOutcome(False, 3, 503, "gave up after 3 attempts: HTTP 503")
    assert (len(seen), len(sleep.slept)) == (3, 2)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL on a port that is bound but not listening: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/police"


async def test_connection_refused_is_retried_then_fails_clearly(
    session: aiohttp.ClientSession, refused_url: str
) -> None:
    sleep = FakeSleep()
    outcome = await deliver(
        session, refused_url, SECRET, BODY, "d-1", RetryPolicy(attempts=3), sleep=sleep
    )
    assert (outcome.delivered, outcome.attempts, outcome.status) == (False, 3, None)
    port = refused_url.split(":")[2].split("/")[0]
    assert outcome.error is not None
    assert outcome.error.startswith(f"gave up after 3 attempts: cannot connect to 127.0.0.1:{port}")
    assert "refused" in outcome.error.lower()
    assert len(sleep.slept) == 2


@pytest.mark.parametrize(
    ("retry_after", "max_delay_s", "slept"), [("7", 30, 7.0), ("3600", 30, 30.0), ("0", 30, 0.0)]
)
async def test_retry_after_is_honoured_up_to_the_cap(
    session: aiohttp.ClientSession, serve: Serve, retry_after: str, max_delay_s: float, slept: float
) -> None:
    url, _ = await serve(Reply(429, {"Retry-After": retry_after}), Reply(200))
    sleep = FakeSleep()
    policy = RetryPolicy(max_delay_s=max_delay_s, rng=random.Random(1))
    outcome = await deliver(session, url, SECRET, BODY, "d-1", policy, sleep=sleep)
    assert (outcome.delivered, sleep.slept) == (True, [slept])


async def test_a_retry_after_date_falls_back_to_the_backoff(
    session: aiohttp.ClientSession, serve: Serve
) -> None:
    url, _ = await serve(Reply(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), Reply(200))
    sleep = FakeSleep()
    await deliver(session, url, SECRET, BODY, "d-1", RetryPolicy(rng=random.Random(3)), sleep=sleep)
    assert sleep.slept == list(RetryPolicy(rng=random.Random(3)).delays())[:1]


async def test_a_timeout_is_a_retryable_failure(
    session: aiohttp.ClientSession, serve: Serve
) -> None:
    url, seen = await serve(Reply(200, delay_s=0.5), Reply(200))
    sleep = FakeSleep()
    policy = RetryPolicy(attempts=2, attempt_timeout_s=0.05)
    outcome = await deliver(session, url, SECRET, BODY, "d-1", policy, sleep=sleep)
    assert outcome == DeliveryOutcome(True, 2, 200, None)
    assert (len(seen), len(sleep.slept)) == (2, 1)


async def test_a_timeout_on_the_last_attempt_is_reported(
    session: aiohttp.ClientSession, serve: Serve
) -> None:
    url, _ = await serve(Reply(200, delay_s=0.5))
    policy = RetryPolicy(attempts=1, attempt_timeout_s=0.05)
    outcome = await deliver(session, url, SECRET, BODY, "d-1", policy, sleep=FakeSleep())
    assert outcome == DeliveryOutcome(
        False, 1, None, "gave up after 1 attempts: timed out after 0.05s"
    )


async def test_an_invalid_url_is_permanent(session: aiohttp.ClientSession) -> None:
    outcome = await deliver(
        session,
        "http://:99999/x?token=s3cr3t",
        SECRET,
        BODY,
        "d-1",
        RetryPolicy(),
        sleep=FakeSleep(),
    )
    assert (outcome.delivered, outcome.attempts) == (False, 1)
    assert outcome.error is not None and "s3cr3t" not in outcome.error


async def test_neither_body_nor_secret_reaches_logs_or_outcome(
    session: aiohttp.ClientSession,
    serve: Serve,
    refused_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url, _ = await serve(Reply(503), Reply(400))
    outcomes = [
        await deliver(session, url, SECRET, BODY, "d-1", RetryPolicy(), sleep=FakeSleep()),
        await deliver(
            session, refused_url, SECRET, BODY, "d-2", RetryPolicy(attempts=2), sleep=FakeSleep()
        ),
    ]
    assert "d-1" in caplog.text and "d-2" in caplog.text  # logging happened at all
    texts = [caplog.text] + [str(o) for o in outcomes]
    for text in texts:
        assert "13800138000" not in text
        assert SECRET.decode() not in text
