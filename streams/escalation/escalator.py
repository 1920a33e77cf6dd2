"""The escalator's decisions over its one table: which escalation a command touches, what to send.

One table, keys by prefix, because Faust writes a table's changes to one changelog partition
per source partition, in order: after a crash the table holds a prefix of what was written.
Writes are ordered so that any prefix can be completed by replaying the commands:

    rep:{code}:{report}  the escalation a report went to: decided once, before the state is
                         written, so a replay finds it even after the place stopped grouping
    esc:{id}             an escalation's state (its timeline names the command behind each event)
    place:{place key}    open escalations filed by rule and place, for grouping
    due:{p}:{second}     ids whose ack timeout falls in that second, in partition p
    cursor:{p}           the next second to look at, and which ids recent ticks moved

A resolved escalation is deleted with its report markers ``closed_escalations_days`` after
its resolve, after a tick of its partition (``forget_resolved``, streams/retention.py).
Expired ones are kept: nobody answered, so they stay on the board until someone resolves them.

A replayed command that the state already reflects (``applied`` >= its offset) re-sends the
events it caused; the notifier and responders drop repeats by event and delivery id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from schemas.escalation import EscalationActionV1, EscalationEventV1
from streams.escalation.commands import ActionCommand, CandidateCommand, Command
from streams.escalation.lifecycle import (
    Candidate,
    Escalation,
    IndexEntry,
    act,
    advance,
    district_of,
    escalation_id,
    find_group,
    join,
    lookup_keys,
    open_escalation,
    place_keys,
)
from streams.escalation.policy import Policy
from streams.retention import Expiry

__all__ = ["Escalator", "UnknownEscalation", "resolved_at"]

# Ticks remember which escalations they moved for this many ticks that moved any: far more
# than fit between two offset commits (2.8 s at one tick a second), the span a crash replays.
_TICK_HISTORY = 32


class UnknownEscalation(LookupError):
    """An action names an escalation id that this partition never opened."""


class Escalator:
    """Applies commands to escalations stored in ``table`` (a Faust table or a dict)."""

    def __init__(
        self, policy: Policy, table: MutableMapping[str, Any], expiry: Expiry | None = None
    ) -> None:
        self.policy = policy
        self.table = table
        # Resolved escalations to delete when their retention passed; None: kept for good.
        self.expiry = expiry

    def handle(
        self, command: Command, partition: int, now: float, cause: int
    ) -> list[EscalationEventV1]:
        """Apply one command read at ``cause`` (its offset); the events to send, in order."""
        if isinstance(command, CandidateCommand):
            return self.on_candidate(command.candidate, partition, now, cause)
        if isinstance(command, ActionCommand):
            return self.on_action(command.action, partition, now, cause)
        return self.on_tick(partition, now, cause)

    # -- commands

    def on_candidate(
        self, cand: Candidate, partition: int, now: float, cause: int
    ) -> list[EscalationEventV1]:
        """Open an escalation for ``cand``, or add it to the open one at its place."""
        rule = self.policy.rule_for(cand.code, cand.severity)
        if rule is None:
            return []  # the policy changed since the candidate was routed: nobody to notify
        marker = f"rep:{cand.code}:{cand.key}"
        esc_id = self.table.get(marker)
        if esc_id is None:  # first sight of this report: group it, and remember the choice
            index: dict[str, IndexEntry] = {}
            for key in lookup_keys(cand, rule):
                index |= self._place(key)
            esc_id = find_group(index, cand, rule, now, self.policy.grouping)
            esc_id = esc_id or escalation_id(cand.district, cand.code, cand.key)
            self.table[marker] = esc_id
        stored = self.get(esc_id)
        if stored is not None and stored.applied >= cause:
            return self._replayed(stored, partition, now, cause)
        if stored is None:
            new = open_escalation(cand, rule, now, cause)
        else:
            new = join(stored, cand, now, cause)
        if new is stored:
            return []
        self._save(new, partition, now)
        return new.events_caused_by(cause)

    def on_action(
        self, action: EscalationActionV1, partition: int, now: float, cause: int
    ) -> list[EscalationEventV1]:
        """Acknowledge or resolve; a second ack or a late resolve changes nothing."""
        stored = self.get(action.escalation_id)
        if stored is None or district_of(action.escalation_id) is None:
            raise UnknownEscalation(action.escalation_id)
        if stored.applied >= cause:
            return self._replayed(stored, partition, now, cause)
        new, _why_not = act(stored, action, now, cause)
        if new is stored:
            return []
        self._save(new, partition, now)
        return new.events_caused_by(cause)

    def on_tick(self, partition: int, now: float, cause: int) -> list[EscalationEventV1]:
        """Climb every escalation of ``partition`` whose ack timeout passed by ``now``."""
        cursor = self.table.get(f"cursor:{partition}")
        if cursor is not None and cursor["last"] >= cause:  # replayed: re-send what it moved
            moved = dict((c, ids) for c, ids in cursor["history"]).get(cause, [])
            stored = [esc for esc_id in moved if (esc := self.get(esc_id)) is not None]
            return [e for esc in stored for e in self._replayed(esc, partition, now, cause)]
        start = cursor["next"] if cursor is not None else math.floor(now)
        end = max(start, math.floor(now))  # every second before ``end`` is fully past
        events: list[EscalationEventV1] = []
        moved_ids: list[str] = []
        for second in range(start, end):
            for esc_id in self.table.get(f"due:{partition}:{second}", ()):
                esc = self.get(esc_id)
                if esc is None or esc_id in moved_ids:
                    continue
                if esc.applied >= cause:  # moved by this tick before a crash cut it short
                    events += self._replayed(esc, partition, now, cause)
                else:
                    new = advance(esc, self.policy.rule_named(esc.rule), now, cause)
                    if new is esc:
                        continue
                    self._save(new, partition, now)
                    events += new.events_caused_by(cause)
                moved_ids.append(esc_id)
        history = [] if cursor is None else list(cursor["history"])
        if moved_ids:
            history = [*history, [cause, moved_ids]][-_TICK_HISTORY:]
        self.table[f"cursor:{partition}"] = {"next": end, "last": cause, "history": history}
        for second in range(start, end):  # after the cursor: a crash before this only leaks
            self.table.pop(f"due:{partition}:{second}", None)
        return events

    def forget_resolved(self, partition: int, now: float) -> int:
        """Delete resolved escalations of ``partition`` past retention, and their markers.

        Called by the agent after a tick's events are sent. A report joined after the first
        ``MAX_REPORTS_LISTED`` is not listed, so its marker stays: small, and only for
        escalations that grouped that many reports. Returns how many were deleted.
        """
        if self.expiry is None:
            return 0
        deleted = 0
        for esc_id in self.expiry.due(partition, now):
            esc = self.get(esc_id)
            if esc is None or esc.status != "resolved":
                continue
            if not self.expiry.expired(resolved_at(esc), now):
                continue
            for marker in _markers(esc):
                if self.table.get(marker) == esc_id:
                    self.table.pop(marker, None)
            self.table.pop(f"esc:{esc_id}", None)
            deleted += 1
        return deleted

    def rebuild_expiry(self, partitions: set[int], partition_of: Callable[[str], int]) -> None:
        """After a rebalance: the resolved escalations of ``partitions``, by resolve time.

        ``partition_of`` maps a district to its partition.
        """
        if self.expiry is None:
            return
        # Read from the stored dicts, not validated into models: a rebalance reads them all.
        self.expiry.rebuild(
            (p, key.removeprefix("esc:"), _stored_resolved_at(data))
            for key, data in self.table.items()
            if key.startswith("esc:") and data["status"] == "resolved"
            if (p := partition_of(data["district"])) in partitions
        )

    # -- storage

    def get(self, esc_id: str) -> Escalation | None:
        """The stored escalation, or None."""
        data = self.table.get(f"esc:{esc_id}")
        return None if data is None else Escalation.model_validate(data)

    def _place(self, key: str) -> dict[str, IndexEntry]:
        entries = self.table.get(f"place:{key}") or {}
        return {esc_id: IndexEntry.model_validate(e) for esc_id, e in entries.items()}

    def _replayed(
        self, stored: Escalation, partition: int, now: float, cause: int
    ) -> list[EscalationEventV1]:
        self._file(stored, now)  # the filing and the timer may not have survived the crash
        self._schedule(stored, partition, now)
        return stored.events_caused_by(cause)

    def _save(self, esc: Escalation, partition: int, now: float) -> None:
        """State first, then filing and timer: a crash between them is repaired by the replay."""
        self.table[f"esc:{esc.escalation_id}"] = esc.model_dump(mode="json")
        if self.expiry is not None and esc.status == "resolved":
            self.expiry.note(partition, esc.escalation_id, now)
        self._file(esc, now)
        self._schedule(esc, partition, now)

    def _file(self, esc: Escalation, now: float) -> None:
        """Keep ``esc`` under its place keys while it can group; prune what no longer can."""
        campaign_id = esc.campaign.campaign_id if esc.campaign else None
        entry = IndexEntry.of(esc)
        live = entry.still_groups(now, self.policy.grouping)
        keys = place_keys(
            esc.district, esc.rule, esc.grid_id, esc.address, esc.lat, esc.lon, campaign_id
        )
        for key in keys:
            entries = {
                i: e.model_dump(mode="json")
                for i, e in self._place(key).items()
                if i != esc.escalation_id and e.still_groups(now, self.policy.grouping)
            }
            if live:
                entries[esc.escalation_id] = entry.model_dump(mode="json")
            if entries:
                self.table[f"place:{key}"] = entries
            else:
                self.table.pop(f"place:{key}", None)

    def _schedule(self, esc: Escalation, partition: int, now: float) -> None:
        """File the id under the second its current step times out in (never a past second)."""
        if esc.status != "open" or esc.deadline is None:
            return
        cursor = self.table.get(f"cursor:{partition}")
        if cursor is None:  # first escalation of this partition: ticks start from here
            cursor = {"next": math.floor(now), "last": -1, "history": []}
            self.table[f"cursor:{partition}"] = cursor
        second = max(math.floor(esc.deadline), cursor["next"])
        key = f"due:{partition}:{second}"
        due = list(self.table.get(key, ()))
        if esc.escalation_id not in due:
            self.table[key] = [*due, esc.escalation_id]


def resolved_at(esc: Escalation) -> float:
    """When a resolved escalation was resolved: the time of its last event."""
    return esc.timeline[-1].event.at.timestamp() if esc.timeline else esc.opened_at


def _stored_resolved_at(data: dict[str, Any]) -> float:
    """``resolved_at`` of a stored state (``Escalation.model_dump(mode="json")``)."""
    timeline = data.get("timeline") or ()
    if not timeline:
        return float(data["opened_at"])
    return datetime.fromisoformat(timeline[-1]["event"]["at"]).timestamp()


def _markers(esc: Escalation) -> list[str]:
    """The ``rep:`` keys that name ``esc``: its campaign's, or each report's it lists."""
    keys = [esc.campaign.campaign_id] if esc.campaign else [r.report_id for r in esc.reports]
    return [f"rep:{esc.code}:{key}" for key in keys]
