"""Build blind5_reports.jsonl / blind5_labels.jsonl from the hand-written blind5_source.txt.

The texts and labels are written by hand in the source; this script only shuffles them and
fills the metadata (district, grid id, time, channel, ids, coordinates) with a fixed seed, then
validates every report against the wire contract.
Run: .venv/bin/python tests/data/triage/build_blind5.py
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from schemas.grid_report import grid_report_adapter

HERE = Path(__file__).resolve().parent
CST = timezone(timedelta(hours=8))
CODES = {
    "E": "EBIKE_CHARGING",
    "B": "BLOCKED_EXIT",
    "W": "ILLEGAL_WIRING",
    "F": "FIRE_EQUIPMENT_FAILURE",
    "T": "TELECOM_FRAUD",
}
SEVERITY = {"l": "low", "m": "medium", "h": "high", "c": "critical", "-": None}
ROLES = {
    "gw": "grid_worker",
    "cw": "community_worker",
    "co": "courier",
    "rd": "ride_hailing_driver",
    "td": "truck_driver",
    "re": "resident",
    "vo": "volunteer",
    "ho": "hotline_operator",
}
PLACES = {
    "ren": "rental_housing",
    "old": "old_residential",
    "nsv": "nine_small_venue",
    "hr": "high_rise",
    "ind": "industrial",
    "st": "street",
    "oth": "other",
}
# district -> (admin code, centre lat, centre lon, [(street, abbreviation, [communities])])
DISTRICTS: dict[str, tuple[str, float, float, list[tuple[str, str, list[str]]]]] = {
    "海曙区": ("330203", 29.87, 121.55, [("鼓楼街道", "GL", ["中山社区", "孝闻社区"])]),
    "江北区": ("330205", 29.93, 121.54, [("庄桥街道", "ZQ", ["费市社区", "童家社区"])]),
    "北仑区": ("330206", 29.90, 121.84, [("大碶街道", "DQ", ["璎珞社区", "灵峰社区"])]),
    "镇海区": ("330211", 29.95, 121.70, [("招宝山街道", "ZB", ["城河社区", "后大街社区"])]),
    "鄞州区": ("330212", 29.82, 121.55, [("钟公庙街道", "ZG", ["天伦社区", "鄞奉社区"])]),
    "奉化区": ("330213", 29.66, 121.41, [("岳林街道", "YL", ["东门社区", "仁湖社区"])]),
    "余姚市": ("330281", 30.04, 121.15, [("梨洲街道", "LZ", ["冶山社区", "谭家岭社区"])]),
    "慈溪市": ("330282", 30.17, 121.27, [("浒山街道", "HS", ["北门社区", "金山社区"])]),
    "宁海县": ("330226", 29.29, 121.43, [("跃龙街道", "YL", ["城中社区", "兴宁社区"])]),
    "象山县": ("330225", 29.48, 121.87, [("丹东街道", "DD", ["丹城社区", "丹河社区"])]),
}
CHANNEL = {
    "grid_worker": "grid_app",
    "community_worker": "grid_app",
    "courier": "courier_app",
    "ride_hailing_driver": "courier_app",
    "truck_driver": "courier_app",
    "resident": "resident_app",
    "volunteer": "grid_app",
    "hotline_operator": "hotline_12345",
}
CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def parse(line: str) -> dict[str, str]:
    """One source line -> its fields."""
    role, place, hint, hour, codes, sev, tags, text = line.split("|", 7)
    return {"role": role, "place": place, "hint": hint, "hour": hour, "codes": codes,
            "sev": sev, "tags": tags, "text": text}  # fmt: skip


def timestamp(rng: random.Random, row: dict[str, str]) -> str:
    """A time in Mar-Apr 2026 whose hour matches what the text says."""
    day = datetime(2026, 3, 2, tzinfo=CST) + timedelta(days=rng.randrange(45))
    hour, minute = (int(row["hour"]) if row["hour"] else rng.randrange(8, 19)), rng.randrange(60)
    if match := CLOCK.search(row["text"]):
        hour, minute = int(match[1]), int(match[2])
    return day.replace(hour=hour, minute=minute, second=rng.randrange(60)).isoformat()


def report(rng: random.Random, number: int, row: dict[str, str]) -> dict[str, object]:
    """The wire report for one source row."""
    role = ROLES[row["role"]]
    district = rng.choice(sorted(DISTRICTS))
    code, lat, lon, streets = DISTRICTS[district]
    street, abbr, communities = rng.choice(streets)
    wx = "wx" in row["tags"].split(",") and role != "hotline_operator"
    out: dict[str, object] = {
        "schema_version": 1,
        "report_id": f"b5-{number:03d}",
        "reported_at": timestamp(rng, row),
        "channel": "wecom_group" if wx else CHANNEL[role],
        "reporter_role": role,
        "district": district,
        "grid_id": f"{code}-{abbr}-{rng.randrange(1, 120):03d}",
        "text": row["text"],
    }
    if rng.random() < 0.7:
        out["street"], out["community"] = street, rng.choice(communities)
    if row["place"]:
        out["place_type"] = PLACES[row["place"]]
    if rng.random() < 0.5:
        out["lat"] = round(lat + rng.uniform(-0.04, 0.04), 6)
        out["lon"] = round(lon + rng.uniform(-0.04, 0.04), 6)
    if row["hint"]:
        out["category_hint"] = row["hint"]
    if rng.random() < 0.6:
        out["reporter_id"] = f"u{rng.randrange(10**6, 10**7)}"
    if rng.random() < 0.25:
        out["contact_phone"] = f"1390000{rng.randrange(10**4):04d}"
    return out


def label(number: int, row: dict[str, str]) -> dict[str, object]:
    """The label line for one source row."""
    codes = sorted(CODES[c] for c in row["codes"].split(",") if c != "-")
    severity = SEVERITY[row["sev"]]
    if bool(codes) != (severity is not None):
        msg = f"severity null iff no code: {row['text']}"
        raise ValueError(msg)
    return {"report_id": f"b5-{number:03d}", "codes": codes, "severity": severity}


def main() -> None:
    """Write the two jsonl files and print the distribution."""
    lines = (HERE / "blind5_source.txt").read_text(encoding="utf-8").splitlines()
    rows = [parse(line) for line in lines if line.strip() and not line.startswith("#")]
    rng = random.Random(20260301)
    rng.shuffle(rows)
    reports = [report(rng, n, row) for n, row in enumerate(rows, 1)]
    labels = [label(n, row) for n, row in enumerate(rows, 1)]
    for item in reports:
        grid_report_adapter.validate_json(json.dumps(item, ensure_ascii=False))
    for name, items in (("reports", reports), ("labels", labels)):
        body = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
        (HERE / f"blind5_{name}.jsonl").write_text(body, encoding="utf-8")
    codes = Counter(c for lab in labels for c in lab["codes"])  # type: ignore[attr-defined]
    print(len(rows), "reports;", Counter(len(lab["codes"]) for lab in labels))  # type: ignore[arg-type]
    print(codes, Counter(lab["severity"] for lab in labels))
    print(Counter(r["reporter_role"] for r in reports))
    print(Counter(t for r in rows for t in r["tags"].split(",")))


if __name__ == "__main__":
    main()
