from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

from streams.triage import cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridwatch")
    sub = parser.add_subparsers(required=True)
    cli.register(sub)
    bench = sub.add_parser("bench-classify")
    cli.add_bench_classify_arguments(bench)
    bench.set_defaults(func=cli.bench_classify)
    return parser


def _report(rid: str, text: str, **kw: object) -> str:
    return json.dumps({"report_id": rid, "text": text, **kw}, ensure_ascii=False)


def test_classify_skips_bad_lines_with_their_number(tmp_path, capsys):
    lines = [
        _report("r1", "楼道里电瓶车在充电。", reported_at="2025-11-03T23:10:00+08:00"),
        "not json",
        json.dumps([1, 2]),
        json.dumps({"report_id": "r4"}),
        "",
        _report("r6", "今日巡查未发现问题。", reported_at="bad time"),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = _parser().parse_args(["classify", str(path)])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["report_id"] for r in rows] == ["r1", "r6"]
    assert rows[0]["severity"] == "high" and rows[0]["findings"][0]["code"] == "EBIKE_CHARGING"
    assert rows[1] == {"report_id": "r6", "findings": [], "severity": None}
    assert "line 2:" in err and "line 3:" in err and "line 4:" in err and "line 6" not in err


def test_read_reports_from_a_stream():
    stream = io.StringIO(_report("x", "消防车道被占用。", category_hint="电信诈骗") + "\n")
    (r,) = cli.read_reports(stream, io.StringIO())
    assert (r.report_id, r.category_hint, r.reported_at) == ("x", "电信诈骗", None)


def test_eval_prints_metrics_and_misses(tmp_path, capsys):
    reports = tmp_path / "r.jsonl"
    labels = tmp_path / "l.jsonl"
    reports.write_text(_report("a", "楼道堆满杂物。") + "\n" + _report("b", "天气不错。") + "\n")
    labels.write_text(
        json.dumps({"report_id": "a", "codes": ["BLOCKED_EXIT"], "severity": "medium"})
        + "\n"
        + json.dumps({"report_id": "b", "codes": ["TELECOM_FRAUD"], "severity": "high"})
        + "\n"
    )
    args = _parser().parse_args(["eval", "--labels", str(labels), str(reports)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "micro F1                0.667" in out
    assert "b  missed   TELECOM_FRAUD" in out


def test_bench_classify_runs(capsys):
    args = _parser().parse_args(["bench-classify", "--count", "300"])
    assert args.func(args) == 0
    assert "reports/s on one core" in capsys.readouterr().out


def test_classify_into_a_reader_that_stops_early_prints_no_traceback(tmp_path):
    # `gridwatch classify big.jsonl | head -1`: far more output than a pipe buffer holds.
    lines = [_report(f"r{i}", "楼道里电瓶车在充电，楼梯间堆满纸箱。") for i in range(5000)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, "-m", "streams.cli", "classify", str(path)]
    with subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # the reader goes away, as `head` does
        err = proc.stderr.read().decode()
    assert json.loads(first)["report_id"] == "r0"
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert proc.returncode == 1


def test_classify_skips_lines_that_are_not_utf8_or_nested_too_deeply(tmp_path, capsys):
    good = _report("r1", "楼道里电瓶车在充电。").encode()
    gbk = _report("r2", "楼道里电瓶车在充电。").encode("gbk")
    deep = b"[" * 100_000 + b"]" * 100_000
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([gbk, deep, good]) + b"\n")
    args = _parser().parse_args(["classify", str(path)])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    assert [json.loads(x)["report_id"] for x in out.splitlines()] == ["r1"]
    assert "line 1: skipped: not UTF-8" in err
    assert "line 2: skipped: nested too deeply" in err
