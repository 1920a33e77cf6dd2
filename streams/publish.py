"""Publish grid reports from a JSON-lines file, as a grid app would, with kafka-python.

Each line is sent as it is (bad lines too: the pipeline must answer them), keyed by its
report_id when it has one, with acks=all so a sent report is on the broker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer
from tqdm import tqdm

from streams.settings import Settings
from streams.validation import report_id_of

__all__ = ["PublishSummary", "publish_lines", "read_lines"]


@dataclass
class PublishSummary:
    """What a publish run did."""

    sent: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def record(self, error: BaseException | None) -> None:
        """Count one delivery report from the producer."""
        if error is None:
            self.sent += 1
            return
        self.failed += 1
        self.errors[type(error).__name__] = self.errors.get(type(error).__name__, 0) + 1


def read_lines(path: Path) -> Iterator[bytes]:
    """The file's non-empty lines as raw bytes (no decoding: bad bytes are sent as they are)."""
    with path.open("rb") as lines:
        for line in lines:
            stripped = line.rstrip(b"\r\n")
            if stripped.strip():
                yield stripped


def make_producer(settings: Settings) -> KafkaProducer:
    """A producer as a grid app should configure one: acks=all, idempotent retries."""
    return KafkaProducer(
        **settings.kafka.client_options(),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        retries=10,
        client_id="gridwatch-publish",
    )


def publish_lines(
    settings: Settings, lines: Iterable[bytes], *, total: int | None = None, progress: bool = True
) -> PublishSummary:
    """Send every line to the reports topic keyed by report_id; wait for every ack."""
    producer, summary = make_producer(settings), PublishSummary()
    try:
        for raw in tqdm(lines, total=total, unit="report", disable=not progress):
            rid = report_id_of(raw)
            future = producer.send(
                settings.topics.reports, key=rid.encode() if rid else None, value=raw
            )
            future.add_callback(lambda _metadata: summary.record(None))
            future.add_errback(summary.record)
        producer.flush()
    finally:
        producer.close()
    return summary
