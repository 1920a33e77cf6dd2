"""A reference webhook receiver: what a responder's endpoint must do, in a form that runs.

Responders copy it (or run it while they build their own), and gridwatch's integration tests
and demo run it in place of real responders. It does the three things every receiver must:
verify the signature before reading anything (401 otherwise, which gridwatch does not retry),
answer 2xx only once the delivery is recorded (so a crash before that means a retry, not a
loss), and act once per delivery id (a repeat gets 200 ``{"duplicate": true}``, so the
sender stops retrying, and is not acted on again). The signature covers the delivery id, and
the id deduped on is the one ``verify`` checked: a captured request replayed under another
``X-Gridwatch-Delivery`` is refused with 401, not taken for a new delivery.

    POST /{target}     one receiver can stand in for several targets (police, bank, street...)
    GET  /_deliveries  what was received, as JSON, for tests in another process

``GET /_deliveries`` returns payloads whole, phone numbers included: it is for tests and
demos on 127.0.0.1, not for a receiver reachable by anyone else. ``fail_first=N`` answers the
first N validly signed requests with 503, so retries can be watched end to end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from aiohttp import web

from streams.escalation.webhook import SignatureError, verify

__all__ = ["Delivery", "deliveries", "receiver_app", "run_receiver", "summary"]

_MAX_FIELD_CHARS = 64


@dataclass(frozen=True)
class Delivery:
    """One delivery as the receiver accepted it; ``attempts`` counts its signed requests seen."""

    target: str
    delivery_id: str
    received_at: float  # unix seconds, from the receiver's clock
    payload: dict[str, Any]
    attempts: int


@dataclass
class _State:
    secret: bytes
    tolerance_s: float
    clock: Callable[[], float]
    on_delivery: Callable[[Delivery], object] | None
    fail_remaining: int
    accepted: dict[str, Delivery] = field(default_factory=dict)  # delivery id -> Delivery
    attempts: Counter[str] = field(default_factory=Counter)  # delivery id -> requests seen


_STATE = web.AppKey("gridwatch_receiver", _State)


def receiver_app(
    secret: bytes,
    *,
    on_delivery: Callable[[Delivery], object] | None = None,
    tolerance_s: float = 300,
    clock: Callable[[], float] = time.time,
    fail_first: int = 0,
) -> web.Application:
    """The receiver as an aiohttp application; ``on_delivery`` sees each delivery id once.

    If ``on_delivery`` raises, the request fails with 500 and nothing is recorded, so the
    sender's retry delivers it again: acting is what makes a delivery count.
    """
    app = web.Application()
    app[_STATE] = _State(secret, tolerance_s, clock, on_delivery, fail_first)
    app.router.add_get("/_deliveries", _list_deliveries)
    app.router.add_post("/{target}", _receive)
    return app


def deliveries(app: web.Application) -> list[Delivery]:
    """The deliveries ``app`` accepted, first-received first, each once."""
    return list(app[_STATE].accepted.values())


async def _receive(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    body = await request.read()
    try:
        # The signed delivery id, exactly: deduping on any other spelling of it would let a
        # replay through.
        delivery_id = verify(
            state.secret, request.headers, body, now=state.clock(), tolerance_s=state.tolerance_s
        )
    except SignatureError as exc:
        return web.json_response({"error": "bad signature", "reason": exc.reason}, status=401)
    state.attempts[delivery_id] += 1
    if state.fail_remaining > 0:
        state.fail_remaining -= 1
        return web.json_response({"error": "failing on purpose (fail_first)"}, status=503)
    # No await from here on: a concurrent repeat of this id cannot slip between check and record.
    if delivery_id in state.accepted:
        seen = replace(state.accepted[delivery_id], attempts=state.attempts[delivery_id])
        state.accepted[delivery_id] = seen
        return web.json_response({"duplicate": True})
    return _accept(state, request.match_info["target"], delivery_id, body)


def _accept(state: _State, target: str, delivery_id: str, body: bytes) -> web.Response:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return web.json_response({"error": "body is not a JSON object"}, status=400)
    attempts = state.attempts[delivery_id]
    delivery = Delivery(target, delivery_id, state.clock(), payload, attempts)
    if state.on_delivery is not None:
        state.on_delivery(delivery)
    state.accepted[delivery_id] = delivery
    return web.json_response({"duplicate": False})


async def _list_deliveries(request: web.Request) -> web.Response:
    return web.json_response([asdict(d) for d in deliveries(request.app)])


async def run_receiver(
    host: str,
    port: int,
    secret: bytes,
    print_fn: Callable[[str], object] = print,
    *,
    fail_first: int = 0,
) -> None:
    """Serve the receiver on ``host:port`` until cancelled, printing a line per delivery.

    The line names the target, delivery id, event type and escalation id, never the payload,
    which may hold phone numbers. ``port=0`` picks a free port; the first line printed says
    which.
    """
    app = receiver_app(secret, on_delivery=lambda d: print_fn(summary(d)), fail_first=fail_first)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = ", ".join(f"http://{a[0]}:{a[1]}/" for a in runner.addresses)
        print_fn(f"gridwatch webhook receiver listening on {bound}")
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()


def summary(delivery: Delivery) -> str:
    """One short line about a delivery: ids, code, severity, level; no personal data."""
    event_type = _short(delivery.payload.get("type"))
    escalation_id = _short(delivery.payload.get("escalation_id"))
    what = " ".join(_short(delivery.payload.get(k)) for k in ("code", "severity", "level"))
    return (
        f"{_short(delivery.target)} {what} delivery={_short(delivery.delivery_id)} "
        f"type={event_type} escalation={escalation_id} attempts={delivery.attempts}"
    )


def _short(value: object) -> str:
    """A scalar, shortened and stripped of control characters (they could rewrite a terminal)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return "-"
    return "".join(c if c.isprintable() else "?" for c in str(value)[:_MAX_FIELD_CHARS])
