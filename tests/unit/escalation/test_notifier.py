"""The notifier's memory of deliveries: kept for idempotence, forgotten after retention."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from schemas.escalation import EscalationEventV1
from streams.escalation import notifier as notifier_module
from streams.escalation.escalator import Escalator
from streams.escalation.notifier import Notifier, delivery_id
from streams.escalation.policy import load_policy
from streams.escalation.webhook import DeliveryOutcome
from streams.pii_vault import PiiVault
from streams.retention import Expiry
from streams.settings import EscalationSettings
from tests.unit.escalation.test_escalator import T0, cand

POLICY = load_policy()
DAY = 86_400.0


@pytest.fixture
def fake_clock(monkeypatch):
    clock = SimpleNamespace(now=T0)
    monkeypatch.setattr("streams.escalation.notifier.time.time", lambda: clock.now)
    return clock


@pytest.fixture
def delivered_ok(monkeypatch):
    """Every POST succeeds (the HTTP path has tests of its own, against a real server)."""

    async def deliver(*_args: Any, **_kwargs: Any) -> DeliveryOutcome:
        return DeliveryOutcome(True, 1, 200, None)

    monkeypatch.setattr(notifier_module, "deliver", deliver)


def make_notifier(delivered: dict[str, float]) -> Notifier:
    config = EscalationSettings(webhook_base_url="http://127.0.0.1:9/hooks")
    return Notifier(config, POLICY, PiiVault(None), delivered, Expiry(keep_s=DAY, per_call=8))


def notified_event() -> EscalationEventV1:
    events = Escalator(POLICY, {}).handle(cand("r-1"), 0, T0, 0)
    return next(e for e in events if e.type == "notified")


async def test_deliveries_are_remembered_then_forgotten_after_retention(fake_clock, delivered_ok):
    delivered: dict[str, float] = {}
    notifier = make_notifier(delivered)
    event = notified_event()
    await notifier.notify(None, event, SimpleNamespace(partition=4))  # type: ignore[arg-type]
    keys = {delivery_id(event, target) for target in event.targets}
    assert set(delivered) == keys  # police, bank and community at once
    notifier.forget_delivered(4, T0 + DAY - 1)
    notifier.forget_delivered(3, T0 + DAY + 1)  # another partition's messages
    assert set(delivered) == keys
    notifier.forget_delivered(4, T0 + DAY + 1)  # by whole second: up to 1 s late
    assert delivered == {}


async def test_a_delivery_made_again_is_kept_for_its_new_time(fake_clock, delivered_ok):
    delivered: dict[str, float] = {}
    notifier = make_notifier(delivered)
    event = notified_event()
    await notifier.notify(None, event, SimpleNamespace(partition=4))  # type: ignore[arg-type]
    for key in delivered:
        delivered[key] = T0 + 100  # written again since (a replay that posted anew)
    notifier.forget_delivered(4, T0 + DAY + 50)
    assert len(delivered) == len(event.targets)


def test_after_a_rebalance_deliveries_of_owned_partitions_are_found_again():
    delivered = {"esc-330203-aaaa:r0:l0:police": T0, "esc-330212-bbbb:r0:l0:bank": T0}
    notifier = make_notifier(delivered)
    where = {"esc-330203-aaaa": 1, "esc-330212-bbbb": 2}
    notifier.rebuild_expiry({1}, where.__getitem__)
    notifier.forget_delivered(2, T0 + DAY + 1)
    notifier.forget_delivered(1, T0 + DAY + 1)
    assert delivered == {"esc-330212-bbbb:r0:l0:bank": T0}


async def test_a_revoked_partition_s_deliveries_in_hand_are_forgotten():
    """Their messages are read again by the next owner: none is acknowledged here."""
    kept, revoked = TP("alerts.escalations", 1), TP("alerts.escalations", 4)
    for tp in (kept, revoked):
        notifier_module.in_order.taken(tp, 7)
    try:
        await notifier_module._forget_revoked(object(), {revoked}, signal=None)
        assert notifier_module.in_order.in_hand(revoked) == 0
        assert notifier_module.in_order.in_hand(kept) == 1
    finally:
        notifier_module.in_order.forget([kept, revoked])
