"""Report texts composed from labelled fragments, so each text's label is known by construction.

The fragments live in ``texts.yaml``, filed under the label they carry (see its header): a
finding's code and severity, a negated check, a routine theme, an on-the-spot fix. A report is
a plan (routine note, one or two findings, a combined sentence, a checklist) filled with
fragments; its label is the union of the fragments' findings, each code at its highest
severity, which is how shared DOMAIN.md labels a report. Noise that keeps the meaning (typos,
traditional characters) is added after, the label untouched.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any, TypeVar

import yaml

__all__ = [
    "CODES",
    "DAY_HOURS",
    "MIXES",
    "NIGHT_HOURS",
    "SEVERITY_RANK",
    "Composer",
    "Findings",
    "TextData",
    "load_texts",
    "merge",
    "report_severity",
]

CODES = (
    "BLOCKED_EXIT",
    "EBIKE_CHARGING",
    "FIRE_EQUIPMENT_FAILURE",
    "ILLEGAL_WIRING",
    "TELECOM_FRAUD",
)
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# Fragments that say "at night" are used only at these report hours, "in the morning" at DAY_HOURS.
NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4})
DAY_HOURS = frozenset({8, 9, 10, 11})

Findings = dict[str, str]  # code -> severity
T = TypeVar("T")

# What reports are made of, as (weight, plan, argument). "routine" takes a theme, "finding" a
# code, "checklist" the chance that each item is a finding. Campaign mixes tilt the default.
Mix = tuple[tuple[float, str, str], ...]
MIXES: dict[str, Mix] = {
    "default": (
        (32, "routine", "patrol"),
        (26, "routine", "daily"),
        (5, "routine", "fixed_earlier"),
        (4, "routine", "publicity"),
        (2, "routine", "drill"),
        (3, "routine", "charging_request"),
        (3, "routine", "other_blocked"),
        (2, "routine", "fraud_followup"),
        (8, "checklist", "0.06"),
        (4.5, "finding", "EBIKE_CHARGING"),
        (2.5, "finding", "BLOCKED_EXIT"),
        (2.5, "finding", "ILLEGAL_WIRING"),
        (2.5, "finding", "FIRE_EQUIPMENT_FAILURE"),
        (2.5, "finding", "TELECOM_FRAUD"),
        (0.5, "combo", ""),
    ),
    "ebike_sweep": (
        (45, "routine", "patrol"),
        (5, "routine", "fixed_earlier"),
        (5, "routine", "charging_request"),
        (35, "finding", "EBIKE_CHARGING"),
        (5, "finding", "BLOCKED_EXIT"),
        (5, "checklist", "0.15"),
    ),
    "venue_check": (
        (40, "checklist", "0.2"),
        (20, "routine", "patrol"),
        (12, "finding", "FIRE_EQUIPMENT_FAILURE"),
        (10, "finding", "BLOCKED_EXIT"),
        (10, "finding", "ILLEGAL_WIRING"),
        (3, "routine", "drill"),
        (5, "combo", ""),
    ),
    "rental_check": (
        (30, "routine", "patrol"),
        (20, "checklist", "0.15"),
        (20, "finding", "ILLEGAL_WIRING"),
        (20, "finding", "EBIKE_CHARGING"),
        (10, "routine", "daily"),
    ),
    "anti_fraud_visit": (
        (60, "routine", "publicity"),
        (15, "routine", "fraud_followup"),
        (15, "finding", "TELECOM_FRAUD"),
        (10, "routine", "daily"),
    ),
}

# How often each severity pool is drawn, when its time fits: critical findings are rare.
_POOL_WEIGHTS = {"medium": 50, "high": 35, "critical": 12, "high_day": 10, "critical_night": 20}
_FIX_SHARE = 0.12  # fire hazards found and fixed on the spot (severity low)
_SECOND_SHARE = 0.12  # finding reports that also carry a second finding
_CLEAR_SHARE = 0.25  # finding reports that open with a negated check of another code
_TYPO_SHARE = 0.04
_TRADITIONAL_SHARE = 0.02
_FIRE_CODES = frozenset(CODES) - {"TELECOM_FRAUD"}
_WORKER_CHANNELS = frozenset({"grid_app", "wecom_group"})
_WORKER_THEMES = frozenset({"patrol", "publicity", "drill", "fixed_earlier", "fraud_followup"})
_PUBLIC_THEMES = ("daily", "daily", "daily", "other_blocked", "charging_request")
_JOIN_CLEAR = ("，但", "；不过", "，但是", "。但")
_JOIN_SECOND = ("；", "，另外", "。还有，", "，同时")


@dataclass(frozen=True)
class TextData:
    """The fragments of ``texts.yaml``, as tuples ready to draw from."""

    findings: dict[str, dict[str, tuple[str, ...]]]
    fixes: dict[str, tuple[str, ...]]
    combos: tuple[tuple[str, Findings], ...]
    clear: dict[str, tuple[str, ...]]
    routine: dict[str, tuple[str, ...]]
    checklist_titles: tuple[str, ...]
    checklist_items: dict[str, dict[str, tuple[str, ...]]]
    openers: dict[str, tuple[str, ...]]
    routine_openers: dict[str, tuple[str, ...]]
    closers: tuple[str, ...]
    hints: dict[str, tuple[str, ...]]
    slots: dict[str, tuple[str, ...]]
    typos: tuple[tuple[str, str], ...]
    traditional: dict[int, str]


@cache
def load_texts() -> TextData:
    """Read ``texts.yaml`` once."""
    text = resources.files(__package__).joinpath("texts.yaml").read_text(encoding="utf-8")
    d: dict[str, Any] = yaml.safe_load(text)
    return TextData(
        findings={c: _tuples(pools) for c, pools in d["findings"].items()},
        fixes=_tuples(d["fixes"]),
        combos=tuple((c["text"], dict(c["codes"])) for c in d["combos"]),
        clear=_tuples(d["clear"]),
        routine=_tuples(d["routine"]),
        checklist_titles=tuple(d["checklists"]["title"]),
        checklist_items={c: _tuples(v) for c, v in d["checklists"]["items"].items()},
        openers=_tuples(d["openers"]),
        routine_openers=_tuples(d["routine_openers"]),
        closers=tuple(d["closers"]),
        hints=_tuples(d["hints"]),
        slots={k: tuple(str(v) for v in d[k]) for k in ("victims", "shops", "amounts")},
        typos=tuple((a, b) for a, b in d["typos"]),
        traditional=str.maketrans({a: b for a, b in d["traditional"]}),
    )


def _tuples(pools: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(items) for name, items in pools.items()}


def merge(into: Findings, more: Findings) -> Findings:
    """Add findings, keeping each code's highest severity (a report's label)."""
    for code, severity in more.items():
        if code not in into or SEVERITY_RANK[severity] > SEVERITY_RANK[into[code]]:
            into[code] = severity
    return into


def report_severity(findings: Findings) -> str | None:
    """The report's severity: the highest of its findings', None without findings."""
    return max(findings.values(), key=SEVERITY_RANK.__getitem__) if findings else None


class _Slots(dict[str, str]):
    """Placeholder values drawn only when a fragment asks for them (``str.format_map``)."""

    def __init__(self, composer: Composer) -> None:
        super().__init__()
        self.composer = composer

    def __missing__(self, key: str) -> str:
        value = self.composer.slot(key)
        self[key] = value
        return value


class Composer:
    """Draws labelled texts with one seeded ``random.Random``: same seed, same texts."""

    def __init__(self, rng: random.Random, data: TextData | None = None) -> None:
        self.rng, self.data = rng, data or load_texts()
        self.community, self.road = "社区", "中山路"  # set per report by the generator
        self.phones: tuple[str, ...] = tuple(_fake_phone(rng) for _ in range(400))
        self._mixes = {name: _cumulative(mix) for name, mix in MIXES.items()}
        self._pools = {
            (code, hour): _cumulative(
                tuple((_POOL_WEIGHTS[n], n, "") for n in pools if _fits(n, hour))
            )
            for code, pools in self.data.findings.items()
            for hour in range(24)
        }

    def pick(self, items: tuple[T, ...]) -> T:
        """One item, uniformly (faster than ``random.choice``)."""
        return items[int(self.rng.random() * len(items))]

    def slot(self, key: str) -> str:
        """A value for one placeholder of a fragment."""
        r = self.rng.random
        match key:
            case "b":
                return str(int(r() * 36) + 1)
            case "u":
                return str(int(r() * 6) + 1)
            case "f":
                return str(int(r() * 31) + 2)
            case "n":
                return str(int(r() * 5) + 2)
            case "room":
                return f"{int(r() * 31) + 2}0{int(r() * 4) + 1}"
            case "phone":
                return self.pick(self.phones)
            case "community":
                return self.community
            case "road":
                return self.road
        return self.pick(self.data.slots[key + "s"])  # victim, shop, amount

    def fill(self, fragment: str) -> str:
        """The fragment with its placeholders filled."""
        return fragment.format_map(_Slots(self)) if "{" in fragment else fragment

    def compose(self, mix: str, hour: int, channel: str) -> tuple[str, Findings]:
        """A whole report text for ``channel`` at ``hour`` (local), and its findings."""
        cum, total, plans = self._mixes[mix]
        _, plan, arg = plans[bisect(cum, self.rng.random() * total)]
        findings: Findings = {}
        openers = self.data.openers
        if plan == "routine":
            if channel not in _WORKER_CHANNELS and arg in _WORKER_THEMES:
                arg = self.pick(_PUBLIC_THEMES)  # residents and drivers do not file patrols
            body, openers = self.fill(self.pick(self.data.routine[arg])), self.data.routine_openers
        elif plan == "finding":
            body = self.finding_report(arg, hour, findings)
        elif plan == "checklist":
            return self.checklist(float(arg), findings), findings
        else:
            text, codes = self.data.combos[int(self.rng.random() * len(self.data.combos))]
            body = self.fill(text)
            merge(findings, codes)
        text = self.fill(self.pick(openers[channel])) + body
        return self.noise(text + self.pick(self.data.closers)), findings

    def finding_report(self, code: str, hour: int, findings: Findings) -> str:
        """One finding, sometimes after a negated check of another code or with a second one."""
        r = self.rng.random
        body, cleared = self.finding(code, hour, findings), code
        if r() < _CLEAR_SHARE:
            cleared = self.pick(tuple(c for c in CODES if c != code))
            body = self.fill(self.pick(self.data.clear[cleared])) + self.pick(_JOIN_CLEAR) + body
        if r() < _SECOND_SHARE:  # never the code just said to be clear
            second = self.pick(tuple(c for c in CODES if c not in findings and c != cleared))
            body += self.pick(_JOIN_SECOND) + self.finding(second, hour, findings)
        return body

    def finding(self, code: str, hour: int, findings: Findings) -> str:
        """One hazard or fraud fragment of ``code``; its severity is merged into ``findings``."""
        pools = self.data.findings[code]
        cum, total, names = self._pools[code, hour]
        name = names[bisect(cum, self.rng.random() * total)][1]
        text, severity = self.fill(self.pick(pools[name])), name.split("_")[0]
        if code in _FIRE_CODES and severity != "critical" and self.rng.random() < _FIX_SHARE:
            text, severity = text + self.pick(self.data.fixes[code]), "low"
        merge(findings, {code: severity})
        return text

    def checklist(self, finding_share: float, findings: Findings) -> str:
        """A patrol form: one line per fire code, each clear or (rarely) a finding."""
        lines = [self.pick(self.data.checklist_titles)]
        for number, (code, pools) in enumerate(self.data.checklist_items.items(), start=1):
            name = "clear"
            if self.rng.random() < finding_share:
                name = self.pick(tuple(n for n in pools if n != "clear"))
                merge(findings, {code: name})
            lines.append(f"{number}.{self.fill(self.pick(pools[name]))}")
        end = "结论：发现隐患，已登记。" if findings else "结论：未发现隐患。"
        return "\n".join([*lines, end])

    def noise(self, text: str) -> str:
        """Typos and traditional characters now and then; never changes the label."""
        r = self.rng.random
        if r() < _TYPO_SHARE:
            for right, wrong in self.data.typos:
                if right in text:
                    text = text.replace(right, wrong, 1)
                    break
        if r() < _TRADITIONAL_SHARE:
            text = text.translate(self.data.traditional)
        return text

    def hint(self, findings: Findings, misleading_share: float = 0.15) -> str:
        """The category an app user would pick: usually fitting, sometimes wrong."""
        hints = self.data.hints
        if self.rng.random() < misleading_share:
            return self.pick(hints["misleading"])
        if not findings:
            return self.pick(hints["routine"])
        return self.pick(hints[self.pick(tuple(sorted(findings)))])


def _fits(pool: str, hour: int) -> bool:
    """Whether a pool's fragments may be used at this local hour (they may state the time)."""
    if pool.endswith("_night"):
        return hour in NIGHT_HOURS
    if pool.endswith("_day"):
        return hour in DAY_HOURS
    return True


def _cumulative(mix: Mix) -> tuple[list[float], float, Mix]:
    cum = list(accumulate(weight for weight, _, _ in mix))
    return cum, cum[-1], mix


def _fake_phone(rng: random.Random) -> str:
    """A mobile-looking number with 0000 in the middle: plausible to a reader, nobody's line."""
    return f"1{rng.choice('356789')}{rng.randint(0, 9)}0000{rng.randint(0, 9999):04d}"
