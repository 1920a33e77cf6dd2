"""The command-center page in headless Chromium shows what the counters hold, and follows them.

A real worker counts real reports; Debian's ``chromium`` (deploy/local/chromium.sh), driven by
Playwright's Python API (never its own browser downloads), opens the page at wall-screen size.
What the page *shows* (text in cells, not the JSON behind it) must equal ``GET /counters`` and
``GET /escalations``, before and after more reports arrive while the page stays open.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from streams.counters import bucket_of
from streams.publish import publish_lines
from streams.sample import make_sample
from streams.settings import DEV_API_TOKEN

from .conftest import ROOT, Pipeline, Worker, wait_for

pytestmark = pytest.mark.integration

WALL = {"width": 1920, "height": 1080}
FIRST, MORE = 80, 40  # reports before the page opens, and while it is open
LABELS = {  # what the page calls each code (Chinese labels are part of the contract)
    "EBIKE_CHARGING": "电动车违规充电",
    "BLOCKED_EXIT": "消防通道堵塞",
    "ILLEGAL_WIRING": "私拉乱接电线",
    "FIRE_EQUIPMENT_FAILURE": "消防设施失效",
    "TELECOM_FRAUD": "电信诈骗",
    "FRAUD_CAMPAIGN": "诈骗团伙线索",
}
FRAUD = ("TELECOM_FRAUD", "FRAUD_CAMPAIGN")
TREND_MINUTES = 120  # streams/live: the trend covers the last two hours by minute
LOCAL_HOSTS = ("127.0.0.1", "localhost")
HINT = "run `bash deploy/local/chromium.sh` (Debian's chromium and a Chinese font)"


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and {reason}; {HINT}", pytrace=False)
    pytest.skip(f"{reason}; {HINT}")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium (or ``GRIDWATCH_CHROMIUM``), with a Chinese font to draw the labels."""
    path = os.environ.get("GRIDWATCH_CHROMIUM") or shutil.which("chromium")
    if not path:
        _missing("no `chromium` on PATH")
    fonts = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    if not fonts.stdout.strip():
        _missing("no Chinese font (fc-list :lang=zh is empty): the labels would be boxes")
    return str(path)


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Iterator[list[Path]]:
    """Screenshots taken by the test; copied to $GRIDWATCH_ARTIFACTS (build/screenshots/)."""
    taken: list[Path] = []
    yield taken
    target = Path(os.environ.get("GRIDWATCH_ARTIFACTS") or ROOT / "build" / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    for shot in taken:
        shutil.copy2(shot, target / shot.name)


def get(worker: Worker, path: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{worker.port}{path}",
        headers={"Authorization": f"Bearer {DEV_API_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def publish(pipeline: Pipeline, count: int, seed: int, prefix: str) -> None:
    """``count`` valid reports over the last hour, with fire hazards and fraud among them."""
    sample = make_sample(count, 0, 0, seed=seed, prefix=prefix, recent=True)
    publish_lines(pipeline.settings, [json.dumps(r).encode() for r in sample.valid], progress=False)


def counted_reports(worker: Worker) -> int:
    """Reports counted in every day bucket (a run just after midnight spans two days)."""
    answer = get(worker, "/counters?grain=day")
    if not answer["complete"]:
        return -1
    return sum(
        n for day in answer["buckets"].values() for k, n in day.items() if k.startswith("reports|")
    )


# -- what the page should show, from the worker's JSON endpoints


def expected(worker: Worker, listed: int, at: float) -> dict[str, Any]:
    """What the page should show, with ``listed`` escalations listed, for a snapshot at ``at``."""
    today = get(worker, "/counters?grain=day")["buckets"].get(str(bucket_of("day", at)), {})
    cells: Counter[tuple[str, str]] = Counter()
    for key, n in today.items():
        kind, district, *rest = key.split("|")
        cells[district, "reports" if kind == "reports" else rest[0]] += n
    escalations = get(worker, "/escalations")["escalations"]
    return {
        "reports": sum(n for (_, code), n in cells.items() if code == "reports"),
        "findings": sum(n for (_, code), n in cells.items() if code != "reports"),
        "cells": {f"{d}|{c}": n for (d, c), n in sorted(cells.items())},
        "trend": trend_totals(worker, at),
        "open": len(escalations),
        "overdue": sum(bool(e["overdue"]) for e in escalations),
        "by_level": {
            "诈骗类": by_level(e for e in escalations if e["code"] in FRAUD),
            "消防隐患": by_level(e for e in escalations if e["code"] not in FRAUD),
        },
        "listed": [_line(e) for e in escalations[:listed]],
        "not_listed": len(escalations) - listed,
    }


def by_level(escalations: Iterable[dict[str, Any]]) -> list[int]:
    """Open escalations at level 1, level 2, and level 3 or above (the page counts from 1)."""
    levels = Counter(min(int(e["level"]), 2) for e in escalations)
    return [levels[0], levels[1], levels[2]]


def trend_totals(worker: Worker, at: float) -> list[int]:
    """Reports and findings in the two hours of minutes up to the snapshot's."""
    first = bucket_of("minute", at) - (TREND_MINUTES - 1) * 60
    minutes = get(worker, "/counters?grain=minute")["buckets"]
    window = [c for bucket, c in minutes.items() if int(bucket) >= first]
    return [
        sum(n for c in window for k, n in c.items() if k.startswith(kind))
        for kind in ("reports|", "findings|")
    ]


def _line(escalation: dict[str, Any]) -> str:
    """How the page words one escalation, without its age (which moves on)."""
    state = "已确认" if escalation["acknowledged"] else "待确认"
    state = "超时未确认" if escalation["overdue"] else state
    return f"{LABELS[escalation['code']]} · 第{escalation['level'] + 1}级 · {state}"


# -- what the page shows, read from its text as a person would


# One evaluate, so that a snapshot arriving halfway through cannot mix two snapshots' numbers.
_READ_PAGE = """() => {
  const texts = (selector, read) => [...document.querySelectorAll(selector)].map(read);
  const one = selector => document.querySelector(selector).innerText;
  return {
    reports: one("#today-reports"), findings: one("#today-findings"),
    open: one("#open-count"), overdue: one("#overdue-count"),
    cells: texts("#grid td[data-code]", td => [`${td.dataset.district}|${td.dataset.code}`,
                                               td.innerText]),
    trend: [one("#trend-reports"), one("#trend-findings")],
    summary: texts("#esc-summary tbody tr", tr => [...tr.cells].map(td => td.innerText)),
    items: texts("#escalations li[data-code]", li => [li.dataset.code, li.innerText]),
    more: one("#esc-more"),
    at: document.body.dataset.updated,
  };
}"""


def shown(page: Page) -> dict[str, Any]:
    raw = page.evaluate(_READ_PAGE)
    more = re.search(r"另有 ([\d,]+) 条未显示", raw["more"])
    return {
        "reports": _number(raw["reports"]),
        "findings": _number(raw["findings"]),
        "cells": {key: _number(text) for key, text in raw["cells"] if _number(text)},
        "trend": [_number(text) for text in raw["trend"]],
        "open": _number(raw["open"]),
        "overdue": _number(raw["overdue"]),
        "by_level": {row[0]: [_number(text) for text in row[1:4]] for row in raw["summary"]},
        "listed": [re.sub(r" · 已等待\S+$", "", text.strip()) for _, text in raw["items"]],
        "not_listed": _number(more.group(1)) if more else 0,
        "codes": [code for code, _ in raw["items"]],
        "at": float(raw["at"]),
    }


def _number(text: str) -> int:
    digits = text.replace(",", "").strip()
    return int(digits) if digits.isdigit() else -1


def wait_until_shown_equals_counted(page: Page, worker: Worker, reports: int) -> dict[str, Any]:
    """Until the page (updated over SSE) shows what the endpoints answer; the page's view."""
    last: dict[str, Any] = {}

    def same() -> bool:
        page_view = shown(page)
        want = expected(worker, len(page_view["codes"]), page_view["at"])
        last.update(page=page_view, want=want)
        return (
            all(page_view[k] == v for k, v in want.items()) and counted_reports(worker) == reports
        )

    def diff() -> str:
        page_view, want = last.get("page", {}), last.get("want", {})
        return str(
            {k: (page_view.get(k), want.get(k)) for k in want if page_view.get(k) != want[k]}
        )

    wait_for(same, 60, worker._died, interval=1.0, describe=diff)
    return dict(last["page"])


def unreadable(page: Page) -> list[str]:
    """What a wall screen cannot show: page scrolling, text clipped or spilling, text under 18px."""
    found: list[str] = page.evaluate(
        """() => {
          const bad = [];
          const root = document.documentElement;
          if (root.scrollWidth > innerWidth || root.scrollHeight > innerHeight)
            bad.push(`page ${root.scrollWidth}x${root.scrollHeight}`);
          const texts = "h1, h2, th, td, li, .total b, .total span, .legend, .axis span";
          for (const el of document.querySelectorAll(texts + ", #status, #esc-more")) {
            if (parseFloat(getComputedStyle(el).fontSize) < 18)  // too small across a room
              bad.push(`${el.tagName} "${el.innerText.slice(0, 30)}" under 18px`);
            if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
              bad.push(`${el.tagName} "${el.innerText.slice(0, 30)}"`);
          }
          return bad;
        }"""
    )
    return found


def test_the_wall_screen_shows_the_counters_and_follows_them_live(
    pipeline, start_worker, browser, screenshots, tmp_path
):
    publish(pipeline, FIRST, seed=53, prefix="wall1")
    worker = start_worker()
    wait_for(lambda: counted_reports(worker) == FIRST, 120, worker._died)

    requests: list[str] = []

    def only_local(route: Route) -> None:
        requests.append(route.request.url)
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            route.abort()  # offline by design: nothing may come from a CDN

    page = browser.new_page(viewport=WALL, device_scale_factor=1)
    page.route("**/*", only_local)
    page.goto(f"http://127.0.0.1:{worker.port}/live#token={DEV_API_TOKEN}")
    page.wait_for_function("document.body.dataset.updated", timeout=30_000)
    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads

    before = wait_until_shown_equals_counted(page, worker, FIRST)
    assert before["reports"] == sum(
        n for key, n in before["cells"].items() if key.endswith("|reports")
    )
    assert before["reports"] == _number(page.inner_text("#grid td[data-total=reports]"))
    assert before["listed"], "the sample opens escalations; the page lists none"
    assert before["codes"][0] in FRAUD, "the sample has fraud; it is not on top"
    fraud_first(before["codes"])
    assert "实时" in page.inner_text("#status")  # complete: every partition counted
    page.screenshot(path=tmp_path / "live-page-first.png")
    screenshots.append(tmp_path / "live-page-first.png")

    publish(pipeline, MORE, seed=59, prefix="wall2")
    after = wait_until_shown_equals_counted(page, worker, FIRST + MORE)
    assert page.evaluate("window.stillTheSamePage") is True, "the page reloaded"
    assert after["reports"] > before["reports"]
    assert after["findings"] > before["findings"]
    fraud_first(after["codes"])
    page.screenshot(path=tmp_path / "live-page.png")
    screenshots.append(tmp_path / "live-page.png")

    assert unreadable(page) == []
    outside = [url for url in requests if urlsplit(url).hostname not in LOCAL_HOSTS]
    assert outside == [], "the page asked for something off this machine"
    page.close()


def fraud_first(codes: list[str]) -> None:
    """Every fraud escalation is listed above every other one."""
    flags = [code in FRAUD for code in codes]
    assert flags == sorted(flags, reverse=True), codes
