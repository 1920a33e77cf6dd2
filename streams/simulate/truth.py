"""The ground truth of one simulated run, summed up for tests to hold the pipeline to.

What intake must do (accept each distinct valid report once, drop its retries, dead-letter
each bad payload with its kind) and what triage should find (findings by district, code and
severity, by the labelling rules), plus the shape of the traffic (per hour, per weekday, per
campaign) to check the simulator itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from streams.simulate.rhythm import Campaign
from streams.simulate.texts import Findings, report_severity

__all__ = ["Truth"]


class Truth:
    """Counts kept while messages are generated; ``to_dict`` is the ``--truth`` file."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.lines = self.accepted = self.duplicates = 0
        self.dead_letters: Counter[str] = Counter()
        self.findings: Counter[tuple[str, str, str]] = Counter()
        self.severities: Counter[str] = Counter()
        self.districts: Counter[str] = Counter()
        self.by_hour = [0] * 24
        self.by_weekday = [0] * 7
        self.campaigns: dict[Campaign, int] = {}
        self.first_reported_at: str | None = None
        self.last_reported_at: str | None = None

    def report(
        self,
        district: str,
        findings: Findings,
        stamp: str,
        hour: int,
        weekday: int,
        campaign: Campaign | None,
    ) -> None:
        """Count a valid report sent for the first time."""
        self.lines += 1
        self.accepted += 1
        self.districts[district] += 1
        self.by_hour[hour] += 1
        self.by_weekday[weekday] += 1
        if self.first_reported_at is None:
            self.first_reported_at = stamp
        self.last_reported_at = stamp
        if campaign is not None:
            self.campaigns[campaign] = self.campaigns.get(campaign, 0) + 1
        if findings:
            self.severities[report_severity(findings) or ""] += 1
            for code, severity in findings.items():
                self.findings[district, code, severity] += 1

    def duplicate(self) -> None:
        """Count an app retry of a report already sent (intake drops it)."""
        self.lines += 1
        self.duplicates += 1

    def dead_letter(self, kind: str) -> None:
        """Count a bad payload, by the error kind intake must give it."""
        self.lines += 1
        self.dead_letters[kind] += 1

    def to_dict(self, stamp: Callable[[float], str]) -> dict[str, Any]:
        """The summary as plain JSON-ready data, keys sorted where order carries no meaning."""
        nested: dict[str, dict[str, dict[str, int]]] = {}
        for (district, code, severity), n in sorted(self.findings.items()):
            nested.setdefault(district, {}).setdefault(code, {})[severity] = n
        return {
            "settings": self.settings,
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dead_letters": sum(self.dead_letters.values()),
            "dead_letters_by_kind": dict(sorted(self.dead_letters.items())),
            "reports_with_findings": sum(self.severities.values()),
            "reports_by_severity": dict(sorted(self.severities.items())),
            "findings_by_code": _by_code(self.findings),
            "findings": nested,
            "reports_by_district": dict(sorted(self.districts.items())),
            "reports_by_hour": self.by_hour,
            "reports_by_weekday": self.by_weekday,
            "first_reported_at": self.first_reported_at,
            "last_reported_at": self.last_reported_at,
            "campaigns": [_campaign(c, n, stamp) for c, n in self.campaigns.items()],
        }


def _by_code(findings: Counter[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (_, code, severity), n in sorted(findings.items(), key=lambda kv: kv[0][1:]):
        out.setdefault(code, {})
        out[code][severity] = out[code].get(severity, 0) + n
    return dict(sorted(out.items()))


def _campaign(campaign: Campaign, reports: int, stamp: Callable[[float], str]) -> dict[str, Any]:
    return {
        "district": campaign.district,
        "street": campaign.street,
        "theme": campaign.theme,
        "start": stamp(campaign.start),
        "end": stamp(campaign.end),
        "reports": reports,
    }
