"""``gridwatch classify``, ``gridwatch eval`` and ``gridwatch bench classify``.

Input is JSON lines of grid reports. Only the fields triage needs are read; a line that is not
a JSON object with ``report_id`` and ``text`` is reported on stderr with its line number and
skipped, because one bad line in a day's export must not stop the rest.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from streams.triage import TriageEngine, load_engine
from streams.triage.evaluate import Label, format_scores, score
from streams.triage.model import DEFAULT_MODEL

__all__ = [
    "ReportLine",
    "add_bench_classify_arguments",
    "bench_classify",
    "parse_report",
    "read_reports",
    "register",
]


@dataclass(frozen=True)
class ReportLine:
    """The fields of a grid report that triage reads."""

    report_id: str
    text: str
    category_hint: str | None = None
    place_type: str | None = None
    reported_at: datetime | None = None


def register(subparsers: Any) -> None:
    """Add ``classify`` and ``eval`` to the ``gridwatch`` subcommands."""
    classify = subparsers.add_parser("classify", help="triage reports (JSON lines) to JSON lines")
    classify.add_argument("file", nargs="?", default="-", help="reports file (default: stdin)")
    _add_engine_arguments(classify)
    classify.set_defaults(func=_classify)
    evaluate = subparsers.add_parser("eval", help="score triage against labelled reports")
    evaluate.add_argument("--labels", required=True, help="labels: {report_id, codes, severity}")
    evaluate.add_argument("file", help="reports file (JSON lines)")
    _add_engine_arguments(evaluate)
    evaluate.add_argument("--no-misses", action="store_true", help="print the metrics only")
    evaluate.set_defaults(func=_evaluate)


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", help="rules.yaml to use instead of the shipped one")
    parser.add_argument("--learned", help="learned.json to use instead of the shipped one")
    parser.add_argument(
        "--rules-only", action="store_true", help="without the learned second opinion"
    )


def _engine(args: argparse.Namespace) -> TriageEngine:
    learned = None if args.rules_only else (args.learned or DEFAULT_MODEL)
    return load_engine(args.rules, learned=learned)


def add_bench_classify_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gridwatch bench classify``."""
    parser.add_argument("--reports", help="replicate these reports (default: generate)")
    parser.add_argument("--count", type=int, default=200_000, help="reports to classify")
    parser.add_argument("--seed", type=int, default=7, help="seed for generated reports")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes of each engine")
    _add_engine_arguments(parser)


def bench_classify(args: argparse.Namespace) -> int:
    """Classification alone (parsing excluded), on one core, in reports per second.

    The shipped engine (rules and learned review) and the rules alone take turns over the
    same reports, so that the ratio holds on a noisy machine; each one's best pass counts.
    """
    engines = {"rules + learned": _engine(args)}
    if engines["rules + learned"].second_opinion is None:
        engines = {"rules alone": engines["rules + learned"]}
    else:
        engines["rules alone"] = load_engine(args.rules, learned=None)
    reports = _bench_reports(args)
    _pin_one_core()
    best = dict.fromkeys(engines, math.inf)
    for _ in range(max(1, args.rounds)):
        for name, engine in engines.items():
            started = time.perf_counter()
            for r in reports:
                engine.classify(r.text, r.category_hint, r.place_type, r.reported_at)
            best[name] = min(best[name], time.perf_counter() - started)
    mean_chars = sum(len(r.text) for r in reports) / len(reports)
    print(f"{len(reports)} reports (mean {mean_chars:.0f} chars), best of {args.rounds} passes")
    for name, seconds in best.items():
        rate, each_us = len(reports) / seconds, seconds / len(reports) * 1e6
        print(f"{name:16s} {rate:10,.0f} reports/s on one core ({each_us:.1f} µs each)")
    if len(best) == 2:  # noqa: PLR2004
        ratio = best["rules alone"] / best["rules + learned"]
        print(f"speed of rules + learned / rules alone: {ratio:.2f}x")
    return 0


def parse_report(line: str) -> ReportLine:
    """Read one JSON line; raise ValueError with a short reason when triage cannot use it."""
    try:
        line.encode("utf-8")  # files are read with surrogateescape: a bad byte is a bad line
        data = json.loads(line)
    except UnicodeEncodeError as exc:
        msg = "not UTF-8"
        raise ValueError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"not JSON ({exc.msg})"
        raise ValueError(msg) from exc
    except RecursionError as exc:
        msg = "nested too deeply"
        raise ValueError(msg) from exc
    if not isinstance(data, dict):
        msg = "not a JSON object"
        raise ValueError(msg)
    rid, text = data.get("report_id"), data.get("text")
    if not isinstance(rid, str) or not rid or not isinstance(text, str):
        msg = "lacks a string report_id or text"
        raise ValueError(msg)
    hint, place = data.get("category_hint"), data.get("place_type")
    return ReportLine(
        rid,
        text,
        hint if isinstance(hint, str) else None,
        place if isinstance(place, str) else None,
        _timestamp(data.get("reported_at")),
    )


def read_reports(stream: TextIO, errors: TextIO) -> Iterator[ReportLine]:
    """Yield the usable reports of a stream, telling ``errors`` about each skipped line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield parse_report(line)
        except ValueError as exc:
            print(f"line {number}: skipped: {exc}", file=errors)


def _timestamp(value: object) -> datetime | None:
    """Parse an ISO-8601 time; a bad or naive one only loses the night modifier."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _classify(args: argparse.Namespace) -> int:
    """Write one triage JSON line per usable input line.

    A reader that stops early (``gridwatch classify … | head``) ends the output quietly, with
    exit status 1 as the Python documentation advises, instead of a BrokenPipeError traceback.
    """
    engine = _engine(args)
    try:
        with _open(args.file) as stream:
            for r in read_reports(stream, sys.stderr):
                out = {"report_id": r.report_id, **_triage(engine, r).to_dict()}
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()  # a closed pipe shows here, not in the flush at exit
    except BrokenPipeError:
        _silence_stdout()
        return 1
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _evaluate(args: argparse.Namespace) -> int:
    """Print the metrics of the engine over labelled reports."""
    engine = _engine(args)
    with _open(args.file) as stream:
        reports = list(read_reports(stream, sys.stderr))
    with _open(args.labels) as stream:
        labels = dict(_read_labels(stream, sys.stderr))
    predictions = {r.report_id: _triage(engine, r) for r in reports}
    texts = {r.report_id: r.text for r in reports}
    print(format_scores(score(predictions, labels, texts), show_misses=not args.no_misses))
    return 0


def _read_labels(stream: TextIO, errors: TextIO) -> Iterator[tuple[str, Label]]:
    """Yield (report_id, Label) from label lines, skipping bad ones with a message."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            yield data["report_id"], Label(frozenset(data["codes"]), data.get("severity"))
        except (ValueError, KeyError, TypeError) as exc:
            print(f"labels line {number}: skipped: {exc!r}", file=errors)


def _triage(engine: TriageEngine, r: ReportLine) -> Any:
    """Classify one parsed report."""
    return engine.classify(r.text, r.category_hint, r.place_type, r.reported_at)


def _open(name: str) -> TextIO:
    """Open a file for reading, or stdin for '-'."""
    if name == "-":
        return os.fdopen(os.dup(sys.stdin.fileno()), encoding="utf-8", errors="surrogateescape")
    return Path(name).open(encoding="utf-8", errors="surrogateescape")


def _bench_reports(args: argparse.Namespace) -> list[ReportLine]:
    """Replicate a reports file, or generate varied reports, up to ``args.count``."""
    if args.reports:
        with _open(args.reports) as stream:
            base = list(read_reports(stream, sys.stderr))
    else:
        base = _generated(random.Random(args.seed), 2_000)  # noqa: S311 - not for security
    return [base[i % len(base)] for i in range(args.count)]


def _pin_one_core() -> None:
    """Keep the benchmark on one CPU so the figure means "per core" (where the OS allows)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _generated(rng: random.Random, n: int) -> list[ReportLine]:
    """Build realistic-looking reports from fragments (hazards, negations, fraud, noise)."""
    return [
        ReportLine(f"BENCH-{i}", "，".join(rng.sample(_FRAGMENTS, rng.randint(2, 4))) + "。")
        for i in range(n)
    ]


_FRAGMENTS = [
    "今日巡查某小区3幢",
    "发现2单元楼道内有电瓶车正在充电",
    "电线从四楼窗户拉下来给楼下电动车充电",
    "楼梯间堆满纸箱和旧家具",
    "消防车道被私家车占用",
    "一楼灭火器压力不足已过期",
    "应急照明灯不亮",
    "未发现飞线充电现象",
    "消防通道畅通",
    "已当场劝导车主推出楼道",
    "出租房内电线私拉乱接",
    "居民王阿姨接到自称京东客服的电话",
    "对方要求开启屏幕共享",
    "开展反诈宣传发放资料两百余份",
    "上周反映的问题复查已整改到位",
    "居民希望增设充电桩",
    "安全出口被铁链锁住",
    "店内正在营业",
    "晚上十点多",
    "网格员已上报社区",
]
