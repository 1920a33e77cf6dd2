from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from streams.triage import Triage, TriageEngine, load_engine

NINGBO = timezone(timedelta(hours=8))
# Short names for the five finding codes, shared by the rule-family tests.
EB, BX, WR, EQ, FR = (
    "EBIKE_CHARGING",
    "BLOCKED_EXIT",
    "ILLEGAL_WIRING",
    "FIRE_EQUIPMENT_FAILURE",
    "TELECOM_FRAUD",
)


@pytest.fixture(scope="session")
def engine() -> TriageEngine:
    """The rules alone: the rule-family tests pin what the rules do.

    With GRIDWATCH_TRIAGE_LEARNED=1 they run on the shipped engine (rules and the learned
    review), to count the probes the review overrules (tests/data/triage/README.md).
    """
    if os.environ.get("GRIDWATCH_TRIAGE_LEARNED") == "1":
        return load_engine()
    return load_engine(learned=None)


@pytest.fixture
def classify(engine: TriageEngine) -> Callable[..., Triage]:
    """classify(text, hour=None, **kw): the engine with an optional Ningbo-local report hour."""

    def run(text: str, hour: int | None = None, **kw: Any) -> Triage:
        at = datetime(2025, 11, 3, hour, 5, tzinfo=NINGBO) if hour is not None else None
        return engine.classify(text, reported_at=at, **kw)

    return run


def codes(t: Triage) -> set[str]:
    return {f.code for f in t.findings}
