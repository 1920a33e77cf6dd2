import json
import time

from streams.cli import main
from streams.simulate.generator import Message
from streams.simulate.publish import paced


def test_simulate_writes_messages_labels_and_truth(tmp_path):
    out, labels, truth = tmp_path / "s.jsonl", tmp_path / "l.jsonl", tmp_path / "t.json"
    args = ["simulate", "--count", "800", "--seed", "2", "--bad-share", "0.05"]
    assert main([*args, "--out", str(out), "--labels", str(labels), "--truth", str(truth)]) == 0
    summary = json.loads(truth.read_text())
    assert len(out.read_bytes().splitlines()) == 800 == summary["lines"]
    assert len(labels.read_text().splitlines()) == summary["accepted"]
    assert summary["settings"]["seed"] == 2 and summary["dead_letters"] > 0
    again = tmp_path / "again.jsonl"
    assert main([*args, "--out", str(again), "--quiet"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_simulate_to_stdout(capsysbinary):
    assert main(["simulate", "--count", "50", "--seed", "3", "--out", "-"]) == 0
    lines = capsysbinary.readouterr().out.splitlines()
    assert len(lines) == 50


def test_labels_read_by_eval(tmp_path):
    from streams.triage.cli import parse_report as triage_line

    out, labels = tmp_path / "s.jsonl", tmp_path / "l.jsonl"
    args = ["simulate", "--count", "300", "--bad-share", "0", "--out", str(out)]
    assert main([*args, "--labels", str(labels), "--quiet"]) == 0
    ids = {triage_line(line).report_id for line in out.read_text().splitlines()}
    assert {json.loads(line)["report_id"] for line in labels.read_text().splitlines()} == ids


def test_paced_keeps_the_rate():
    messages = [Message(b"x", None)] * 30
    started = time.perf_counter()
    assert len(list(paced(messages, 200))) == 30
    assert time.perf_counter() - started >= 29 / 200 * 0.9


def test_unpaced_is_immediate():
    messages = [Message(b"x", None)] * 1000
    started = time.perf_counter()
    assert len(list(paced(messages, 0))) == 1000
    assert time.perf_counter() - started < 0.5
