"""The reference receiver: verify, dedupe, record; and end to end with the real sender."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.escalation.receiver import (
    Delivery,
    deliveries,
    receiver_app,
    run_receiver,
    summary,
)
from streams.escalation.webhook import (
    DELIVERY_HEADER,
    RetryPolicy,
    deliver,
    signed_headers,
)

SECRET = b"whsec-receiver"
T = 1_762_175_645
PAYLOAD: dict[str, Any] = {
    "type": "notified",
    "code": "TELECOM_FRAUD",
    "severity": "critical",
    "level": 0,
    "escalation_id": "esc-251103-00000000deadbeef",
    "reports": [{"contact_phone": "13800138000"}],
}

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
async def client_for() -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(app: web.Application) -> Client:
        client: Client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def post(
    client: Client,
    target: str,
    delivery_id: str,
    payload: Any = PAYLOAD,
    *,
    secret: bytes = SECRET,
    timestamp: int = T,
) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    headers = signed_headers(secret, body, delivery_id, timestamp)
    response = await client.post(f"/{target}", data=body, headers=headers)
    return response.status, await response.json()


def fixed_clock() -> float:
    return T + 0.5


async def test_a_valid_delivery_is_recorded_once_and_handed_over(client_for: MakeClient) -> None:
    handed: list[Delivery] = []
    app = receiver_app(SECRET, on_delivery=handed.append, clock=fixed_clock)
    client = await client_for(app)
    assert await post(client, "police", "d-1") == (200, {"duplicate": False})
    expected = Delivery("police", "d-1", T + 0.5, PAYLOAD, attempts=1)
    assert deliveries(app) == [expected]
    assert handed == [expected]


async def test_a_repeated_delivery_id_is_answered_duplicate_and_not_handed_over_again(
    client_for: MakeClient,
) -> None:
    handed: list[Delivery] = []
    app = receiver_app(SECRET, on_delivery=handed.append, clock=fixed_clock)
    client = await client_for(app)
    await post(client, "bank", "d-1")
    # A retry is freshly signed: a new timestamp, the same delivery id.
    assert await post(client, "bank", "d-1", timestamp=T + 1) == (200, {"duplicate": True})
    assert [d.delivery_id for d in handed] == ["d-1"]
    [recorded] = deliveries(app)
    assert (recorded.delivery_id, recorded.attempts) == ("d-1", 2)
    assert await post(client, "bank", "d-2") == (200, {"duplicate": False})
    assert [d.delivery_id for d in deliveries(app)] == ["d-1", "d-2"]


async def test_one_receiver_stands_in_for_several_targets(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, clock=fixed_clock)
    client = await client_for(app)
    for n, target in enumerate(["police", "bank", "street"]):
        await post(client, target, f"d-{n}")
    assert [d.target for d in deliveries(app)] == ["police", "bank", "street"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"secret": b"wrong"}, "signature mismatch"),
        ({"timestamp": T - 301}, "timestamp too old"),
        ({"timestamp": T + 301}, "timestamp in the future"),
    ],
)
async def test_a_bad_signature_is_401_and_not_recorded(
    client_for: MakeClient, kwargs: dict[str, Any], reason: str
) -> None:
    handed: list[Delivery] = []
    app = receiver_app(SECRET, on_delivery=handed.append, clock=lambda: T)
    client = await client_for(app)
    status, reply = await post(client, "police", "d-1", **kwargs)
    assert (status, reply) == (401, {"error": "bad signature", "reason": reason})
    assert deliveries(app) == [] and handed == []


async def test_unsigned_requests_are_401(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, clock=lambda: T)
    client = await client_for(app)
    response = await client.post("/police", json=PAYLOAD)
    assert response.status == 401
    assert (await response.json())["reason"] == "missing header X-Gridwatch-Timestamp"
    assert deliveries(app) == []


async def test_a_tampered_body_is_401(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, clock=lambda: T)
    client = await client_for(app)
    headers = signed_headers(SECRET, json.dumps(PAYLOAD).encode(), "d-1", T)
    response = await client.post("/police", data=b'{"type":"resolved"}', headers=headers)
    assert response.status == 401
    assert deliveries(app) == []


async def test_a_missing_delivery_id_is_401(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, clock=lambda: T)
    client = await client_for(app)
    body = json.dumps(PAYLOAD).encode()
    headers = signed_headers(SECRET, body, "d-1", T)
    del headers[DELIVERY_HEADER]
    response = await client.post("/police", data=body, headers=headers)
    assert response.status == 401
    assert await response.json() == {
        "error": "bad signature",
        "reason": "missing header X-Gridwatch-Delivery",
    }
    assert deliveries(app) == []


async def test_a_captured_request_replayed_under_another_delivery_id_is_401(
    client_for: MakeClient,
) -> None:
    handed: list[Delivery] = []
    app = receiver_app(SECRET, on_delivery=handed.append, clock=lambda: T)
    client = await client_for(app)
    body = json.dumps(PAYLOAD).encode()
    captured = signed_headers(SECRET, body, "d-1", T)
    first = await client.post("/police", data=body, headers=captured)
    assert first.status == 200
    replayed = captured | {DELIVERY_HEADER: "d-1-replayed"}
    response = await client.post("/police", data=body, headers=replayed)
    assert response.status == 401
    assert await response.json() == {"error": "bad signature", "reason": "signature mismatch"}
    assert [d.delivery_id for d in deliveries(app)] == ["d-1"]
    assert [d.delivery_id for d in handed] == ["d-1"]


@pytest.mark.parametrize("payload", [["a", "list"], "text", 3])
async def test_a_body_that_is_not_a_json_object_is_400(
    client_for: MakeClient, payload: Any
) -> None:
    app = receiver_app(SECRET, clock=lambda: T)
    client = await client_for(app)
    status, _ = await post(client, "police", "d-1", payload)
    assert status == 400
    assert deliveries(app) == []


async def test_a_failing_handler_means_500_and_the_retry_is_handed_over(
    client_for: MakeClient,
) -> None:
    handed: list[Delivery] = []

    def flaky(delivery: Delivery) -> None:
        if not handed:
            handed.append(delivery)
            raise RuntimeError("responder database down")
        handed.append(delivery)

    app = receiver_app(SECRET, on_delivery=flaky, clock=lambda: T)
    client = await client_for(app)
    body = json.dumps(PAYLOAD).encode()
    first = await client.post("/police", data=body, headers=signed_headers(SECRET, body, "d-1", T))
    assert first.status == 500
    assert deliveries(app) == []
    assert await post(client, "police", "d-1") == (200, {"duplicate": False})
    assert [d.attempts for d in deliveries(app)] == [2]
    assert len(handed) == 2


async def test_deliveries_are_listed_as_json(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, clock=fixed_clock)
    client = await client_for(app)
    await post(client, "police", "d-1")
    await post(client, "police", "d-1", timestamp=T + 1)
    await post(client, "district", "d-2", {"type": "escalated"})
    response = await client.get("/_deliveries")
    assert response.status == 200
    assert await response.json() == [
        {
            "target": "police",
            "delivery_id": "d-1",
            "received_at": T + 0.5,
            "payload": PAYLOAD,
            "attempts": 2,
        },
        {
            "target": "district",
            "delivery_id": "d-2",
            "received_at": T + 0.5,
            "payload": {"type": "escalated"},
            "attempts": 1,
        },
    ]


class FakeSleep:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.slept.append(delay)


async def test_fail_first_makes_the_real_sender_retry(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, fail_first=2)
    client = await client_for(app)
    sleep = FakeSleep()
    async with aiohttp.ClientSession() as session:
        outcome = await deliver(
            session,
            str(client.make_url("/street")),
            SECRET,
            json.dumps(PAYLOAD).encode(),
            "d-9",
            RetryPolicy(rng=random.Random(5)),
            sleep=sleep,
        )
    assert (outcome.delivered, outcome.attempts, outcome.status) == (True, 3, 200)
    assert len(sleep.slept) == 2
    [recorded] = deliveries(app)
    assert (recorded.target, recorded.delivery_id, recorded.attempts) == ("street", "d-9", 3)


async def test_fail_first_does_not_spend_itself_on_bad_signatures(client_for: MakeClient) -> None:
    app = receiver_app(SECRET, fail_first=1, clock=lambda: T)
    client = await client_for(app)
    assert (await post(client, "police", "d-1", secret=b"wrong"))[0] == 401
    assert (await post(client, "police", "d-1"))[0] == 503
    assert (await post(client, "police", "d-1"))[0] == 200


async def test_run_receiver_serves_and_prints_one_short_line_per_delivery() -> None:
    lines: list[str] = []
    listening = asyncio.Event()

    def capture(line: object) -> None:
        lines.append(str(line))
        listening.set()

    task = asyncio.create_task(run_receiver("127.0.0.1", 0, SECRET, print_fn=capture))
    try:
        await asyncio.wait_for(listening.wait(), 2)
        base = lines[0].rsplit(" ", 1)[1]
        assert base.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session:
            body = json.dumps(PAYLOAD).encode()
            outcome = await deliver(session, base + "police", SECRET, body, "d-3", RetryPolicy())
        assert outcome.delivered
        assert lines[1:] == [
            "police TELECOM_FRAUD critical 0 delivery=d-3 type=notified"
            " escalation=esc-251103-00000000deadbeef attempts=1"
        ]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "13800138000" not in "\n".join(lines)


def test_summary_never_prints_nested_values_or_control_characters() -> None:
    delivery = Delivery(
        "police",
        "d-\x1b[2J",
        T,
        {"type": {"contact_phone": "13800138000"}, "escalation_id": "esc\n1"},
        1,
    )
    assert summary(delivery) == "police - - - delivery=d-?[2J type=- escalation=esc?1 attempts=1"
