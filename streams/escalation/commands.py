"""What the escalator is told, on ``alerts.commands`` (internal, keyed by district).

Candidates (from findings and campaigns), responders' actions and clock ticks all reach the
escalator through one topic, in one order per partition: a table may only be written while
processing a stream event, and one ordered input is what makes a replay after a crash
deterministic. A command's time is its broker timestamp (LogAppendTime), never the clock.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.escalation import EscalationActionV1
from schemas.grid_report import DISTRICTS
from streams.escalation.lifecycle import Candidate
from streams.partitioning import partition_of

__all__ = [
    "ActionCommand",
    "CandidateCommand",
    "Command",
    "TickCommand",
    "command_adapter",
    "district_partition",
    "districts_of_partition",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CandidateCommand(_Frozen):
    """A finding (or campaign) that the policy escalates: open an escalation or join one."""

    type: Literal["candidate"] = "candidate"
    candidate: Candidate


class ActionCommand(_Frozen):
    """A responder's ack or resolve."""

    type: Literal["action"] = "action"
    action: EscalationActionV1


class TickCommand(_Frozen):
    """Time passed: climb every escalation of this partition whose timeout is due."""

    type: Literal["tick"] = "tick"


Command = Annotated[CandidateCommand | ActionCommand | TickCommand, Field(discriminator="type")]
command_adapter: TypeAdapter[CandidateCommand | ActionCommand | TickCommand] = TypeAdapter(Command)


def district_partition(district: str, partitions: int) -> int:
    """The partition of a district's commands (Kafka's default partitioner on its name)."""
    return partition_of(district.encode(), partitions)


def districts_of_partition(partition: int, partitions: int) -> list[str]:
    """The districts whose escalations live in ``partition``."""
    return [d for d in DISTRICTS if district_partition(d, partitions) == partition]
