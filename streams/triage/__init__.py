"""Triage of grid reports: finding codes, severities and evidence from free Chinese text.

The knowledge (phrases, scopes, severity rules) lives in ``rules.yaml`` beside this module so
that officers can edit it; ``load_engine()`` validates and compiles it once, and by default
adds the learned second opinion of ``learned.json`` (streams/triage/model.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from streams.triage.engine import Evidence, Finding, Triage, TriageEngine
from streams.triage.knowledge import KnowledgeError, load_knowledge
from streams.triage.model import DEFAULT_MODEL, LearnedModelError, load_model

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_RULES",
    "Evidence",
    "Finding",
    "KnowledgeError",
    "LearnedModelError",
    "Triage",
    "TriageEngine",
    "load_engine",
    "load_knowledge",
    "load_model",
]

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")


def load_engine(
    path: Path | str | None = None, *, learned: Path | str | None = DEFAULT_MODEL
) -> TriageEngine:
    """Build an engine from a rules file (the shipped ``rules.yaml`` by default).

    ``learned``: the model that reviews the rules' findings (the shipped ``learned.json`` by
    default); None: the rules alone. The shipped engine is cached: compiling takes
    milliseconds, classifying microseconds, so callers should not rebuild it per report.

    Raises:
        KnowledgeError: the rules file is invalid (message names the line).
        LearnedModelError: the model file is invalid (message names the field).
    """
    if path is None and learned == DEFAULT_MODEL:
        return _default_engine()
    model = load_model(learned) if learned is not None else None
    return TriageEngine(load_knowledge(Path(path or DEFAULT_RULES)), model)


@lru_cache(maxsize=1)
def _default_engine() -> TriageEngine:
    """Compile the shipped rules and model once per process."""
    return TriageEngine(load_knowledge(DEFAULT_RULES), load_model(DEFAULT_MODEL))
