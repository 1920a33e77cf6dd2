"""The wall-screen page: what a snapshot holds, and a page that needs nothing from outside."""

from __future__ import annotations

import re
from importlib.resources import files

from streams.counters import bucket_of
from streams.live import snapshot

NOW = 1_764_470_000.0
TODAY = str(bucket_of("day", NOW))
YESTERDAY = str(bucket_of("day", NOW) - 86400)


def test_today_the_district_grid_and_the_trend_window():
    days = {
        TODAY: {
            "reports|海曙区": 7,
            "findings|海曙区|EBIKE_CHARGING|high": 2,
            "findings|海曙区|TELECOM_FRAUD|critical": 1,
            "reports|江北区": 3,
        },
        YESTERDAY: {"reports|海曙区": 100},
    }
    this_minute = bucket_of("minute", NOW)
    minutes = {
        str(this_minute): {"reports|海曙区": 2, "findings|海曙区|EBIKE_CHARGING|high": 1},
        str(this_minute - 60 * 200): {"reports|海曙区": 9},  # older than two hours
    }
    shown = snapshot(days, minutes, [{"escalation_id": "e"}], NOW, complete=True)
    assert shown["today"] == {"reports": 10, "findings": 3}
    assert shown["grid"] == {
        "江北区": {"reports": 3},
        "海曙区": {"reports": 7, "EBIKE_CHARGING": 2, "TELECOM_FRAUD": 1},
    }
    assert shown["trend"] == [[this_minute, 2, 1]]
    assert shown["escalations"] == [{"escalation_id": "e"}]
    assert shown["complete"] is True


def test_the_page_loads_nothing_from_outside_and_speaks_chinese():
    page = files("streams.live").joinpath("page.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    for label in ("今日上报", "区县", "待处理升级", "近两小时趋势"):
        assert label in page
