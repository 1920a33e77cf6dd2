"""The escalation policy: who is notified of which finding, in what order, with what timeout.

Written by the command center in YAML (``policy.yaml`` beside this module is the Ningbo
default) and checked whole when the worker starts: an unknown target, a PII grant to a role
that must not have it or a malformed duration stops the worker with the entry's path, rather
than surfacing at 3 a.m. when the first escalation needs it.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from schemas.escalation import EscalationCode
from schemas.findings import Severity
from streams.errors import ConfigError

__all__ = [
    "CAMPAIGN_CODE",
    "DEFAULT_POLICY_FILE",
    "PII_ROLES",
    "Campaigns",
    "Grouping",
    "Level",
    "Policy",
    "Role",
    "Rule",
    "Step",
    "Target",
    "load_policy",
    "parse_duration",
]

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")
CAMPAIGN_CODE = "FRAUD_CAMPAIGN"
Role = Literal["police", "bank", "grid", "community", "street", "district", "fire", "property"]
# Raw phone numbers go to these roles only: they call the victim and freeze the accounts.
PII_ROLES: frozenset[str] = frozenset({"police", "bank"})

_TARGET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(value: object) -> object:
    """``90s``, ``2m``, ``1h30m`` (or a number of seconds) as seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not value.strip() or match is None:
            msg = f"not a duration: {value!r} (write e.g. 90s, 2m, 1h30m)"
            raise ValueError(msg)
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Target(_Strict):
    """A responder that can be notified."""

    name: str
    role: Role
    reveal_pii: bool = False

    @model_validator(mode="after")
    def _pii_only_where_needed(self) -> Target:
        if self.reveal_pii and self.role not in PII_ROLES:
            msg = f"reveal_pii is for roles {sorted(PII_ROLES)} only, not {self.role!r}"
            raise ValueError(msg)
        return self


class Level(_Strict):
    """One rung: its targets, all at once or one after another, and how long each has."""

    notify: tuple[str, ...] = Field(min_length=1)
    order: Literal["parallel", "sequence"] = "parallel"
    ack_timeout: Duration


class Step(_Strict):
    """Who is notified together and how long they have: a parallel level is one step."""

    level: int
    targets: tuple[str, ...]
    ack_timeout: float


class Rule(_Strict):
    """The escalation for findings of these codes and severities."""

    name: str
    codes: tuple[EscalationCode, ...] = Field(min_length=1)
    severities: tuple[Severity, ...] = Field(min_length=1)
    levels: tuple[Level, ...] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """The levels flattened: one step per parallel level, one per target in a sequence."""
        steps: list[Step] = []
        for number, level in enumerate(self.levels):
            groups = [level.notify] if level.order == "parallel" else [(t,) for t in level.notify]
            steps += [Step(level=number, targets=g, ack_timeout=level.ack_timeout) for g in groups]
        return tuple(steps)


class Grouping(_Strict):
    """When a report joins an open escalation instead of opening one."""

    window: Duration
    # At most 50 m: grouping looks in the map cells around a report, which are ~52 m wide.
    radius_m: float = Field(gt=0, le=50)


class Campaigns(_Strict):
    """When one phone number, account or link across grids becomes a campaign alert."""

    window: Duration
    min_grids: int = Field(ge=2, le=100)


class Policy(_Strict):
    """The whole policy file."""

    version: Literal[1]
    targets: dict[str, Target] = Field(min_length=1)
    grouping: Grouping
    campaigns: Campaigns
    escalations: tuple[Rule, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        # Target names end up in URLs, delivery ids and metric labels: keep them plain.
        odd = [name for name in self.targets if not _TARGET_NAME.match(name)]
        if odd:
            msg = f"target names must be lowercase letters, digits and _: {odd}"
            raise ValueError(msg)
        names = [rule.name for rule in self.escalations]
        if len(set(names)) != len(names):
            msg = f"escalation names must be distinct: {names}"
            raise ValueError(msg)
        for rule in self.escalations:
            for number, level in enumerate(rule.levels):
                unknown = [t for t in level.notify if t not in self.targets]
                if unknown:
                    msg = f"escalation {rule.name!r} level {number}: unknown targets {unknown}"
                    raise ValueError(msg)
        return self

    def rule_for(self, code: str, severity: str) -> Rule | None:
        """The first rule matching the code and severity; None: nobody is notified."""
        for rule in self.escalations:
            if code in rule.codes and severity in rule.severities:
                return rule
        return None

    def rule_named(self, name: str) -> Rule:
        """The rule an open escalation was opened under."""
        for rule in self.escalations:
            if rule.name == name:
                return rule
        msg = f"no escalation rule named {name!r} in the policy"
        raise KeyError(msg)


def load_policy(path: Path | None = None) -> Policy:
    """Read and check a policy file (default: the shipped Ningbo policy)."""
    path = path or DEFAULT_POLICY_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        msg = f"{path.name}: cannot read the escalation policy: {exc}"
        raise ConfigError(msg) from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        msg = f"{path.name}: {problems}"
        raise ConfigError(msg) from exc
