"""The notifier: each ``notified`` event is POSTed, signed, to every target it names.

    alerts.escalations ──> notify ──> webhooks (HMAC-SHA256, retried with backoff)
                                 └──> alerts.dlq (undeliverable, with the reason)

Targets of one event are reached in parallel (police and bank at once). The delivery id is
``{escalation}:r{round}:l{level}:{target}``: the same on every retry and on a replay after a
crash, so a responder that drops repeats (docs/webhooks.md) sees each notification once. The
payload is the event itself, masked; targets whose policy says ``reveal_pii`` also get the
raw phone numbers and text, opened from the sealed copy here and nowhere else.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, cast

import aiohttp
import faust

from schemas.escalation import AlertDeadLetterV1, EscalationEventV1, escalation_event_adapter
from streams.app import (
    app,
    metrics,
    owned_partitions,
    retained,
    retained_expiry,
    revoked_of,
    settings,
    vault,
)
from streams.escalation.agents import dead_letter, policy
from streams.escalation.policy import Policy, Target
from streams.escalation.webhook import DeliveryOutcome, RetryPolicy, deliver
from streams.ordered_acks import InOrder
from streams.partitioning import partition_of
from streams.pii_vault import PiiVault
from streams.retention import Expiry
from streams.settings import EscalationSettings
from streams.topics import alerts_dlq_topic, escalations_topic

__all__ = ["Webhook", "delivery_id", "notify", "payload", "rebuild_delivered_expiry", "webhook_for"]

log = logging.getLogger(__name__)

# Slow or failing webhooks must not hold up the others: events are delivered concurrently,
# and acknowledged in offset order, so a commit never steps over one still being delivered.
_CONCURRENCY = 16
in_order = InOrder()


@dataclass(frozen=True)
class Webhook:
    """Where one target is reached and the key its deliveries are signed with."""

    url: str
    secret: bytes


def webhook_for(target: str, config: EscalationSettings) -> Webhook | None:
    """The target's own webhook, else the base URL + its name; None: not configured."""
    own = config.webhooks.get(target)
    if own is not None:
        return Webhook(own.url, own.secret.get_secret_value().encode())
    if config.webhook_base_url is None:
        return None
    base = config.webhook_base_url.rstrip("/")
    return Webhook(f"{base}/{target}", config.webhook_secret.get_secret_value().encode())


def delivery_id(event: EscalationEventV1, target: str) -> str:
    """The idempotency key of one notification: escalation, round, level and target."""
    return f"{event.escalation_id}:r{event.round}:l{event.level}:{target}"


def payload(event: EscalationEventV1, name: str, target: Target, pii: PiiVault) -> dict[str, Any]:
    """What one target receives: the event (masked), who it is for, and PII if allowed."""
    body = event.model_dump(mode="json", exclude={"reports": {"__all__": {"sealed_pii"}}})
    body |= {"target": name, "target_name": target.name, "delivery_id": delivery_id(event, name)}
    if target.reveal_pii:
        opened = [(r.report_id, pii.open(r.sealed_pii)) for r in event.reports if r.sealed_pii]
        body["pii"] = [{"report_id": rid, **raw} for rid, raw in opened if raw is not None]
    return body


class Notifier:
    """Delivers notifications over one HTTP session and remembers what it delivered."""

    def __init__(
        self,
        config: EscalationSettings,
        rules: Policy,
        pii: PiiVault,
        delivered: MutableMapping[str, float],
        expiry: Expiry | None = None,
    ) -> None:
        self.config = config
        self.policy = rules
        self.pii = pii
        self.retry = RetryPolicy()
        # delivery id -> when: a table, so a replay after a crash does not POST again what
        # was delivered before it; the responder's dedupe covers the last milliseconds.
        self.delivered = delivered
        # Deliveries are forgotten after retention (streams/retention.py); None: kept.
        self.expiry = expiry

    async def notify(
        self, session: aiohttp.ClientSession, event: EscalationEventV1, message: faust.types.Message
    ) -> None:
        """Deliver one notified event to all its targets at once."""
        await asyncio.gather(*(self._one(session, event, t, message) for t in event.targets))

    async def _one(
        self,
        session: aiohttp.ClientSession,
        event: EscalationEventV1,
        name: str,
        message: faust.types.Message,
    ) -> None:
        key = delivery_id(event, name)
        if key in self.delivered:
            metrics.labelled(metrics.notifications, name, "skipped_repeat").inc()
            return
        target, hook = self.policy.targets.get(name), webhook_for(name, self.config)
        if target is None or hook is None:
            outcome = DeliveryOutcome(False, 0, None, f"no webhook configured for {name!r}")
        else:
            body = _json(payload(event, name, target, self.pii))
            outcome = await deliver(session, hook.url, hook.secret, body, key, self.retry)
        if outcome.delivered:
            self.delivered[key] = now = time.time()
            if self.expiry is not None:
                self.expiry.note(message.partition, key, now)
            metrics.labelled(metrics.notifications, name, "delivered").inc()
            metrics.notification_seconds.observe(time.time() - event.at.timestamp())
            return
        metrics.labelled(metrics.notifications, name, "failed").inc()
        await _dead_letter(event, name, key, outcome, message)

    def forget_delivered(self, partition: int, now: float) -> None:
        """Delete a few deliveries of ``partition`` past retention (inside stream iteration)."""
        if self.expiry is not None:
            self.expiry.sweep(self.delivered, partition, now, float)

    def rebuild_expiry(self, partitions: set[int], partition_of: Callable[[str], int]) -> None:
        """After a rebalance: the deliveries of ``partitions`` (``partition_of`` an escalation)."""
        if self.expiry is None:
            return
        self.expiry.rebuild(
            (p, key, when)
            for key, when in self.delivered.items()
            if (p := partition_of(key.split(":", 1)[0])) in partitions
        )


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def _dead_letter(
    event: EscalationEventV1,
    target: str,
    key: str,
    outcome: DeliveryOutcome,
    message: faust.types.Message,
) -> None:
    letter = AlertDeadLetterV1(
        kind="undeliverable",
        reason=outcome.error or "not delivered",
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        original_b64=base64.b64encode(event.model_dump_json().encode()).decode(),
        escalation_id=event.escalation_id,
        delivery_id=key,
        target=target,
        attempts=outcome.attempts,
        http_status=outcome.status,
        dead_lettered_at=datetime.now(UTC),
    )
    await alerts_dlq_topic.send(key=None, value=letter.model_dump_json().encode())
    log.warning("undeliverable %s to %s: %s", key, target, letter.reason)


delivered_table = app.Table(
    "notifier-delivered",
    default=None,
    schema=faust.Schema(key_serializer="json", value_serializer="json"),
    **retained(settings, settings.retention.deliveries_days),
)
notifier = Notifier(
    settings.escalation,
    policy,
    vault,
    delivered_table,
    retained_expiry(delivered_table, settings.retention.deliveries_days),
)


@delivered_table.on_recover
async def rebuild_delivered_expiry() -> None:
    """After a rebalance: the deliveries this worker now holds, by partition and time."""
    owned = owned_partitions(settings.topics.escalations)
    partitions = settings.kafka.partitions
    notifier.rebuild_expiry(owned, lambda esc_id: partition_of(esc_id.encode(), partitions))


@app.agent(escalations_topic, concurrency=_CONCURRENCY)
async def notify(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """POST every notified event to its targets; other lifecycle events are not sent."""
    stream = cast(faust.Stream[bytes], stream).noack()  # acknowledged in order (``in_order``)
    async with aiohttp.ClientSession() as session:
        async for event in stream.events():
            async with in_order.handling(stream, event):
                started = perf_counter()
                raw: bytes = event.value
                if b'"type":"notified"' in raw:
                    try:
                        escalation = escalation_event_adapter.validate_json(raw)
                        await notifier.notify(session, escalation, event.message)
                    except Exception as exc:  # noqa: BLE001 - dead-letter, never skip
                        await dead_letter("internal_error", repr(exc), event.message, raw)
                notifier.forget_delivered(event.message.partition, time.time())
                metrics.processed("notify", started)
            yield None


async def _forget_revoked(sender: object, /, *args: object, **kwargs: object) -> None:
    """Deliveries of a revoked partition not acknowledged yet are read again by its next owner."""
    in_order.forget(revoked_of(args, kwargs))


app.on_partitions_revoked.connect(_forget_revoked)
