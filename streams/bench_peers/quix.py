"""The Quix Streams peer: the same per-report work, written the way Quix documents it.

    source (bytes) ─apply(stateful: dedup in State)─> Outcome ┬─filter─> dlq
                                                              └─filter─> accepted, findings,
                                                                         counts (update)

Dedup is Quix's own: a ``State`` keyed by the message key (the report_id, as apps publish),
kept in RocksDB and backed by a changelog topic that Quix writes at each checkpoint.
``processing_guarantee`` is at-least-once, or exactly-once (Kafka transactions) when the
config says so. Outputs keep gridwatch's bytes: a record already serialised by ``work.py``
goes out through a serializer that hands its value over, and its key and headers are set
from it. Quix is imported inside the functions: it is an optional extra (``.[bench]``).

Run as ``python -m streams.bench_peers.quix '<PeerConfig JSON>'``; SIGTERM stops it.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from streams.bench_peers.progress import PeerConfig, ProgressWriter
from streams.bench_peers.work import Accepted, Outcome, Record, Rejected, Tally
from streams.bench_peers.work import process as process_one
from streams.pii_vault import PiiVault
from streams.triage import load_engine

if TYPE_CHECKING:
    from quixstreams import Application, State

__all__ = ["build", "main"]


def record_serializer() -> Any:
    """A Quix serializer of ``Record``s: the bytes they already hold."""
    from quixstreams.models.serializers import SerializationContext, Serializer

    class RecordValue(Serializer):
        def __call__(self, value: Record, ctx: SerializationContext) -> bytes:
            return value.value

    return RecordValue()


class _StateSeen:
    """The ``in`` test ``process`` asks, answered by this message's State."""

    def __init__(self, state: State[Any, Any]) -> None:
        self.state = state

    def __contains__(self, report_id: object) -> bool:
        return self.state.get("seen") is not None


def build(config: PeerConfig, tally: Tally) -> Application:
    """The Quix application, its topics and its dataframe."""
    from quixstreams import Application, message_context  # the optional "bench" extra

    app = Application(
        broker_address=config.bootstrap,
        consumer_group=config.group,
        auto_offset_reset="earliest",
        processing_guarantee="exactly-once"
        if config.guarantee == "exactly-once"
        else "at-least-once",
        state_dir=config.state_dir,
        loglevel="WARNING",
    )
    source = app.topic(config.source, key_deserializer="bytes", value_deserializer="bytes")
    accepted_topic, findings_topic, dlq_topic = (
        app.topic(name, key_serializer="bytes", value_serializer=record_serializer())
        for name in (config.accepted, config.findings, config.dlq)
    )
    vault = PiiVault(None)

    def route(raw: bytes, key: bytes | None, _ts: int, _h: Any, state: State[Any, Any]) -> Outcome:
        ctx = message_context()
        outcome = process_one(
            raw, key, ctx.topic, ctx.partition, ctx.offset, seen=_StateSeen(state), vault=vault
        )
        if isinstance(outcome, Accepted):
            state.set("seen", [ctx.topic, ctx.partition, ctx.offset])
        tally.add(outcome, time.time())
        return outcome

    sdf = app.dataframe(source).apply(route, stateful=True, metadata=True)
    # (report_id, Outcome)
    rejected = sdf.filter(lambda o: isinstance(o, Rejected)).apply(lambda o: o.letter)
    rejected.to_topic(dlq_topic, key=lambda r: r.key)
    accepted = sdf.filter(lambda o: isinstance(o, Accepted))
    _to(accepted.apply(lambda o: o.accepted), accepted_topic)
    _to(accepted.apply(lambda o: o.findings), findings_topic)
    return app


def _to(records: Any, topic: Any) -> None:
    """Produce a branch of ``Record``s with their own key and headers."""
    records.set_headers(lambda r, k, t, h: r.headers).to_topic(topic, key=lambda r: r.key)


def main(argv: list[str] | None = None) -> int:
    """Entry point: the config as the one argument; Quix handles SIGTERM itself."""
    config = PeerConfig.from_json((argv or sys.argv[1:])[0])
    load_engine()
    tally = Tally()
    app = build(config, tally)
    writer = ProgressWriter(config.progress, tally.as_dict)
    writer.start()
    try:
        app.run()
    finally:
        writer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
