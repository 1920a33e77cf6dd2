"""``gridwatch responder --role ROLE``: an on-call responder's terminal.

It follows ``alerts.escalations`` live, shows each escalation that notifies a target of the
role (police, bank, community, street, district…), numbered, fraud first, and takes
``ack N [note]`` and ``resolve N [outcome] [note]`` typed at the prompt, published to
``alerts.acks`` as the responder. What it shows is masked: the raw numbers go only to the
webhooks of roles that need them, never to a terminal.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schemas.escalation import (
    EscalationActionV1,
    EscalationEventV1,
    Outcome,
    escalation_event_adapter,
)
from streams.escalation.policy import Policy
from streams.settings import Settings

__all__ = ["Board", "Command", "parse_command", "render", "run_responder"]

_OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]
_CLOSED = ("resolved", "expired")
_STATUS = {"acknowledged": "ACKED", "resolved": "RESOLVED", "expired": "EXPIRED"}
HELP = "commands: list | ack N [note] | resolve N [handled|false_alarm|referred|...] [note] | quit"


@dataclass(frozen=True)
class Command:
    """A line typed at the prompt."""

    verb: str
    number: int | None = None
    outcome: str | None = None
    note: str | None = None


def parse_command(line: str) -> Command | str:
    """The command on a line, or what is wrong with it (shown to the responder)."""
    words = line.split(maxsplit=2)
    if not words:
        return Command("list")
    verb = words[0].lower()
    if verb in ("list", "quit", "help"):
        return Command(verb)
    if verb not in ("ack", "resolve"):
        return f"unknown command {verb!r}; {HELP}"
    if len(words) < 2 or not words[1].isdigit():  # noqa: PLR2004
        return f"{verb} needs the escalation's number from the list"
    rest = words[2] if len(words) > 2 else None  # noqa: PLR2004
    if verb == "resolve" and rest:
        first, _, more = rest.partition(" ")
        if first in _OUTCOMES:
            return Command(verb, int(words[1]), first, more or None)
    return Command(verb, int(words[1]), None, rest)


def render(number: int, event: EscalationEventV1) -> str:
    """One escalation as a line for the terminal (masked values only)."""
    place = event.address or event.grid_id
    age = event.at.astimezone().strftime("%H:%M:%S")
    what = f"{event.code} {event.severity}" + (f" {event.fraud_type}" if event.fraud_type else "")
    text = next((r.text for r in event.reports if r.text), "")
    status = _STATUS.get(event.type, "OPEN")
    return (
        f"[{number}] {age} {status} L{event.level} {what} · {event.district} {place}"
        f" · {event.report_count} report(s) · {text[:60]}"
    )


@dataclass
class Board:
    """The escalations this role has been notified of, numbered in arrival order."""

    policy: Policy
    role: str
    latest: dict[str, EscalationEventV1] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def targets_of_role(self) -> set[str]:
        """The policy's targets whose role is this responder's."""
        return {name for name, t in self.policy.targets.items() if t.role == self.role}

    def update(self, event: EscalationEventV1) -> bool:
        """Take one event; True when it concerns this role (and should be shown)."""
        known = event.escalation_id in self.latest
        mine = event.type == "notified" and bool(self.targets_of_role() & set(event.targets))
        if not (known or mine):
            return False
        self.latest[event.escalation_id] = event
        self.numbers.setdefault(event.escalation_id, len(self.numbers) + 1)
        return True

    def open_items(self) -> list[tuple[int, EscalationEventV1]]:
        """Open escalations, fraud first, then by number."""
        items = [(self.numbers[i], e) for i, e in self.latest.items() if e.type not in _CLOSED]
        return sorted(items, key=lambda item: (item[1].code != "TELECOM_FRAUD", item[0]))

    def escalation_id(self, number: int) -> str | None:
        """The id behind a number shown in the list."""
        return next((i for i, n in self.numbers.items() if n == number), None)


def _follow(settings: Settings, stop: threading.Event) -> Iterator[EscalationEventV1]:
    """Escalation events from the start of the topic's retention, then live."""
    consumer = KafkaConsumer(
        **settings.kafka.client_options(), group_id=None, consumer_timeout_ms=500
    )
    topic = settings.topics.escalations
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        while not stop.is_set():
            for record in consumer:
                yield escalation_event_adapter.validate_json(record.value)
    finally:
        consumer.close()


def run_responder(
    settings: Settings,
    policy: Policy,
    role: str,
    by: str,
    *,
    lines: Iterable[str] = sys.stdin,
    say: Callable[[str], object] = print,
) -> int:
    """Show escalations for ``role`` as they arrive and publish the responder's actions."""
    board = Board(policy, role)
    lock = threading.Lock()
    stop = threading.Event()

    def watch() -> None:
        for event in _follow(settings, stop):
            with lock:
                if board.update(event):
                    say(render(board.numbers[event.escalation_id], event))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    producer = KafkaProducer(**settings.kafka.client_options(), acks="all")
    say(f"watching escalations for role {role!r} as {by!r}. {HELP}")
    try:
        for line in lines:
            command = parse_command(line)
            if isinstance(command, str):
                say(command)
            elif command.verb == "quit":
                break
            elif command.verb in ("list", "help"):
                with lock:
                    for number, event in board.open_items():
                        say(render(number, event))
                    say(HELP if command.verb == "help" else f"{len(board.open_items())} open")
            else:
                say(_act(board, command, by, producer, settings, lock))
    finally:
        stop.set()
        producer.close()
    return 0


def _act(
    board: Board,
    command: Command,
    by: str,
    producer: KafkaProducer,
    settings: Settings,
    lock: threading.Lock,
) -> str:
    with lock:
        esc_id = board.escalation_id(command.number or 0)
    if esc_id is None:
        return f"no escalation number {command.number}; type list"
    action = EscalationActionV1.model_validate(
        {
            "escalation_id": esc_id,
            "action": command.verb,
            "by": by,
            "note": command.note,
            "outcome": command.outcome,
        }
    )
    value = json.dumps(action.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
    producer.send(settings.topics.acks, value.encode()).get(timeout=10)
    return f"{command.verb} sent for [{command.number}] {esc_id}"
