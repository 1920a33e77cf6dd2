"""Write the JSON Schemas that app developers validate against, from the pydantic models.

Run ``python -m schemas.export`` after changing a model; a test fails while the checked-in
files are stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from schemas.dead_letter import DeadLetterV1
from schemas.escalation import AlertDeadLetterV1, EscalationActionV1, EscalationEventV1
from schemas.findings import FindingsEventV1
from schemas.grid_report import AcceptedReportV1, GridReportV1

__all__ = ["SCHEMA_DIR", "main", "rendered_schemas"]

SCHEMA_DIR = Path(__file__).parent / "json"
_MODELS: dict[str, type] = {
    "grid_report.v1.schema.json": GridReportV1,
    "accepted_report.v1.schema.json": AcceptedReportV1,
    "dead_letter.v1.schema.json": DeadLetterV1,
    "findings_event.v1.schema.json": FindingsEventV1,
    "escalation_event.v1.schema.json": EscalationEventV1,
    "escalation_action.v1.schema.json": EscalationActionV1,
    "alert_dead_letter.v1.schema.json": AlertDeadLetterV1,
}


def rendered_schemas() -> dict[str, str]:
    """File name → JSON Schema text, exactly as it is checked in."""
    return {name: _render(model) for name, model in _MODELS.items()}


def _render(model: type) -> str:
    schema = TypeAdapter(model).json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Rewrite every schema file under ``schemas/json/``."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in rendered_schemas().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
