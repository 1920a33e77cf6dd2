"""The command center's wall-screen page, served by every worker, updated live.

    GET /live               the page (Chinese labels, no external resources: works offline)
    GET /live/stream        text/event-stream of city-wide snapshots every 2 s (bearer token)

The token is given in the page's address after ``#token=`` (a fragment: never sent to the
server or written to a log); the page reads the stream with ``fetch`` so that the token
travels in a header, not in a URL.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from importlib.resources import files
from typing import Any

from aiohttp import web as aiohttp_web
from faust import web

from streams.app import app, settings
from streams.command_center import ask_peers, local_counts, open_escalations, sort_open
from streams.counters import GRAINS, bucket_of, merge
from streams.escalation.web import authorized

__all__ = ["LivePage", "LiveStream", "city_snapshot", "snapshot"]

_PAGE = files("streams.live").joinpath("page.html").read_text(encoding="utf-8")
_EVERY_S = 2.0
_TREND_MINUTES = 120


def snapshot(
    days: dict[str, dict[str, int]],
    minutes: dict[str, dict[str, int]],
    escalations: list[dict[str, Any]],
    now: float,
    *,
    complete: bool,
) -> dict[str, Any]:
    """What the page shows: today's totals, district × code, the last 2 hours, open escalations."""
    today = days.get(str(bucket_of("day", now)), {})
    grid: dict[str, Counter[str]] = {}
    for key, n in today.items():
        kind, district, *rest = key.split("|")
        grid.setdefault(district, Counter())["reports" if kind == "reports" else rest[0]] += n
    first_minute = bucket_of("minute", now) - (_TREND_MINUTES - 1) * GRAINS["minute"]
    trend = [
        [int(bucket), _total(counts, "reports"), _total(counts, "findings")]
        for bucket, counts in sorted(minutes.items(), key=lambda item: int(item[0]))
        if int(bucket) >= first_minute
    ]
    return {
        "at": now,
        "complete": complete,
        "today": {"reports": _total(today, "reports"), "findings": _total(today, "findings")},
        "grid": {district: dict(counts) for district, counts in sorted(grid.items())},
        "trend": trend,
        "escalations": escalations,
    }


def _total(counts: dict[str, int], kind: str) -> int:
    return sum(n for key, n in counts.items() if key.startswith(kind + "|"))


async def city_snapshot(request: web.Request) -> dict[str, Any]:
    """The snapshot of the whole city: this worker's share plus every other worker's."""
    owned, day_counts, _ = local_counts("day")
    days, minutes, covered = [day_counts], [local_counts("minute")[1]], set(owned)
    for grain, parts in (("day", days), ("minute", minutes)):
        for peer in await ask_peers(request, f"/counters?grain={grain}&local=1"):
            parts.append(peer["buckets"])
            if grain == "day":
                covered |= set(peer["partitions"])
    escalations = open_escalations(time.time())
    for peer in await ask_peers(request, "/escalations?local=1"):
        escalations += peer["escalations"]
    complete = covered == set(range(settings.kafka.partitions))
    return snapshot(
        merge(days), merge(minutes), sort_open(escalations), time.time(), complete=complete
    )


@app.page("/live")
class LivePage(web.View):
    """The page itself (it asks for data with the token from its own address)."""

    async def get(self, request: web.Request) -> web.Response:
        """The HTML, as is."""
        return self.html(_PAGE)


@app.page("/live/stream")
class LiveStream(web.View):
    """City snapshots as server-sent events, every 2 s, until the page goes away."""

    async def get(self, request: web.Request) -> Any:
        """401 without the token; else an event stream that ends when the worker stops.

        aiohttp waits up to 60 s for open requests when the server stops: a wall screen left
        open would hold every shutdown (and rolling restart) that long, so the loop ends as
        soon as the app is stopping and the page reconnects to a worker that is up.
        """
        if not authorized(request):
            return self.json({"error": "missing or wrong bearer token"}, status=401)
        response = aiohttp_web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)  # type: ignore[arg-type]
        try:
            while not app.should_stop:
                data = json.dumps(await city_snapshot(request), ensure_ascii=False)
                await response.write(f"data: {data}\n\n".encode())
                await asyncio.sleep(_EVERY_S)
        except (ConnectionResetError, asyncio.CancelledError):
            return response
