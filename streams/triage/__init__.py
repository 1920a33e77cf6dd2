"""Triage of grid reports: finding codes, severities and evidence from free Chinese text.

The knowledge (phrases, scopes, severity rules) lives in ``rules.yaml`` beside this module so
that officers can edit it; ``load_engine()`` validates and compiles it once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from streams.triage.engine import Evidence, Finding, Triage, TriageEngine
from streams.triage.knowledge import KnowledgeError, load_knowledge

__all__ = [
    "DEFAULT_RULES",
    "Evidence",
    "Finding",
    "KnowledgeError",
    "Triage",
    "TriageEngine",
    "load_engine",
    "load_knowledge",
]

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")


def load_engine(path: Path | str | None = None) -> TriageEngine:
    """Build an engine from a rules file (the shipped ``rules.yaml`` by default).

    The default engine is cached: compiling the knowledge takes milliseconds, classifying
    microseconds, so callers should not rebuild it per report.

    Raises:
        KnowledgeError: the rules file is invalid (message names the line).
    """
    if path is None:
        return _default_engine()
    return TriageEngine(load_knowledge(Path(path)))


@lru_cache(maxsize=1)
def _default_engine() -> TriageEngine:
    """Compile the shipped rules once per process."""
    return TriageEngine(load_knowledge(DEFAULT_RULES))
