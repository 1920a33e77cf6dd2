"""Sample traffic for the demo and the tests: valid reports, app retries and bad payloads.

Seeded, so a run is reproducible. Each bad payload carries the error kind intake must give
it, which makes this module the catalogue of what the dead-letter topic answers.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from schemas.grid_report import CHANNELS, DISTRICTS, PLACE_TYPES, REPORTER_ROLES

__all__ = ["ROUTINE_TEXTS", "BadPayload", "Sample", "bad_payloads", "make_sample", "valid_report"]

_CST = timezone(timedelta(hours=8))
_TEXTS = (
    "3号楼2单元楼道里有两辆电瓶车在充电，已劝离。",
    "5楼住户从窗口拉线给楼下电动车充电，飞线充电，已告知物业。",
    "小区东侧消防通道被私家车堵塞，消防车无法通行。",
    "出租房内私拉乱接电线，插线板串联使用，电线老化裸露。",
    "沿街小饭店灭火器过期，压力不足，应急灯损坏。",
    "独居老人手机被远程控制，对方自称银行客服，正在让他转账到安全账户！",
    "巡查1号楼至6号楼，未发现电动车违规充电，消防通道畅通。",
    "社区开展反诈宣传活动，发放宣传册200份。",
    "居民反映楼下垃圾桶满溢，已联系保洁清运。",
    "阿拉小区楼道里电驴交关多，夜里还在充电，吓煞人。",
    "九小场所检查：网吧安全出口被杂物堵塞，已责令整改。",
    "居民咨询能否在小区增设电动自行车充电桩。",
    "消火栓箱内水带缺失，消防栓无水。",
    "接12345转办：某住户在家中给电动车电池充电，电池为改装电池。",
    "老人接到自称公安的电话说涉嫌洗钱，要求屏幕共享，已及时劝阻未转账。",
)


# Routine notes: most of what grid workers file finds no fire hazard and no fraud.
ROUTINE_TEXTS = (
    "巡查1号楼至6号楼，未发现电动车违规充电，消防通道畅通。",
    "居民反映楼下垃圾桶满溢，已联系保洁清运。",
    "社区开展反诈宣传活动，发放宣传册200份。",
    "居民咨询能否在小区增设电动自行车充电桩。",
    "走访独居老人王阿姨，身体状况良好，已登记需求。",
    "小区路灯不亮，已报物业维修。",
    "两户居民因噪音发生口角，已调解。",
    "沿街商铺门前乱堆放，已劝导整改完毕。",
)


_FIRST_REPORT = datetime(2025, 11, 3, 8, tzinfo=_CST)
_EVERY = timedelta(minutes=7)


def valid_report(
    rng: random.Random,
    index: int,
    *,
    prefix: str = "rpt",
    routine_share: float = 0.0,
    first: datetime = _FIRST_REPORT,
    every: timedelta = _EVERY,
) -> dict[str, object]:
    """One valid report as a grid app would send it (``routine_share`` of them routine)."""
    reported = first + every * index
    report: dict[str, object] = {
        "schema_version": 1,
        "report_id": f"{prefix}-{index:07d}",
        "reported_at": reported.isoformat(),
        "channel": rng.choice(CHANNELS),
        "reporter_role": rng.choice(REPORTER_ROLES),
        "district": rng.choice(DISTRICTS),
        "grid_id": f"3302{rng.randint(10, 99)}-GR-{rng.randint(1, 400):03d}",
        "text": rng.choice(ROUTINE_TEXTS if rng.random() < routine_share else _TEXTS),
        "place_type": rng.choice(PLACE_TYPES),
    }
    if rng.random() < 0.5:
        report["lat"] = round(rng.uniform(29.6, 30.1), 6)
        report["lon"] = round(rng.uniform(121.3, 121.8), 6)
    if rng.random() < 0.3:
        report["contact_phone"] = f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
    return report


@dataclass(frozen=True)
class BadPayload:
    """A payload intake must refuse, and the error kind it must give."""

    raw: bytes
    kind: str


def _dump(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _with(report: dict[str, object], **changes: object) -> bytes:
    return _dump({**report, **changes})


def _without(report: dict[str, object], field: str) -> bytes:
    return _dump({k: v for k, v in report.items() if k != field})


def bad_payloads(report: dict[str, object]) -> list[BadPayload]:
    """One bad variant of ``report`` for every kind of mistake intake must answer."""
    return [
        BadPayload(b"report: e-bike in stairwell", "not_json"),
        BadPayload(b'{"schema_version": 1, "text": "\xe6\x9c\xaa\xff"}', "not_utf8"),
        BadPayload(b'["not", "an", "object"]', "not_object"),
        BadPayload(_without(report, "grid_id"), "missing_field"),
        BadPayload(_with(report, schema_version="1"), "unknown_schema_version"),
        BadPayload(_with(report, schema_version=2), "unknown_schema_version"),
        BadPayload(_with(report, district="杭州市"), "unknown_value"),
        BadPayload(_with(report, channel="fax"), "unknown_value"),
        BadPayload(_with(report, text=12345), "wrong_type"),
        BadPayload(_with(report, reported_at="2025-11-03T21:14:05"), "bad_timestamp"),
        BadPayload(_with(report, reported_at="yesterday evening"), "bad_timestamp"),
        BadPayload(_with(report, text="   "), "text_empty"),
        BadPayload(_with(report, text="楼" * 2001), "text_too_long"),
        BadPayload(_with(report, lat=39.9, lon=116.4), "out_of_range"),
        BadPayload(_with(report, report_id="has spaces/and slashes"), "bad_format"),
        BadPayload(_with(report, gridid="typo"), "unknown_field"),
        BadPayload(_with(report, address="x" * 70_000), "too_large"),
        BadPayload(b"[" * 5000 + b"]" * 5000, "too_deep"),
    ]


@dataclass(frozen=True)
class Sample:
    """Traffic for one run: valid reports, their retries and bad payloads, in sending order."""

    valid: list[dict[str, object]]
    retries: list[dict[str, object]]
    bad: list[BadPayload]

    def lines(self, rng: random.Random) -> list[bytes]:
        """Every payload, shuffled as they would arrive from many apps."""
        payloads = [_dump(r) for r in self.valid + self.retries] + [b.raw for b in self.bad]
        rng.shuffle(payloads)
        return payloads


def make_sample(
    valid: int,
    invalid: int,
    retries: int,
    *,
    seed: int = 2025,
    prefix: str = "rpt",
    recent: bool = False,
) -> Sample:
    """``valid`` distinct reports, ``retries`` resends of some of them, ``invalid`` bad ones.

    ``recent``: reported over the last hour instead of from 2025-11-03 on, so that the
    command center's "today" and its two-hour trend show them.
    """
    rng = random.Random(seed)
    first, every = _FIRST_REPORT, _EVERY
    if recent and valid:
        first, every = datetime.now(_CST) - timedelta(hours=1), timedelta(hours=1) / valid
    reports = [valid_report(rng, i, prefix=prefix, first=first, every=every) for i in range(valid)]
    catalogue = bad_payloads(reports[0]) if reports else []
    bad = [catalogue[i % len(catalogue)] for i in range(invalid)]
    return Sample(reports, [rng.choice(reports) for _ in range(retries)], bad)
