import json
from collections import Counter
from datetime import datetime

import orjson
import pytest

from streams.errors import InvalidReport
from streams.simulate import SimConfig, Simulator
from streams.simulate.faults import BAD_KINDS, bad_payload
from streams.simulate.texts import SEVERITY_RANK
from streams.validation import parse_report, report_id_of


def _bytes(config: SimConfig) -> list[bytes]:
    sim = Simulator(config)
    return [m.value + b"|" + (m.label or b"") for m in sim.messages()] + [
        orjson.dumps(sim.truth_dict())
    ]


def test_same_seed_same_bytes():
    config = SimConfig(count=3000, seed=5, bad_share=0.05, retry_share=0.1)
    assert _bytes(config) == _bytes(config)


def test_other_seed_other_bytes():
    assert _bytes(SimConfig(count=200, seed=1)) != _bytes(SimConfig(count=200, seed=2))


def test_count_is_the_number_of_messages(run):
    sim, messages = run
    assert len(messages) == 30_000 == sim.truth.lines


def test_every_message_is_one_line(run):
    _, messages = run
    assert all(b"\n" not in m.value and m.value.strip() for m in messages)


def test_valid_and_bad_as_the_truth_says(run):
    sim, messages = run
    kinds: Counter[str] = Counter()
    ids: Counter[str] = Counter()
    for message in messages:
        try:
            ids[parse_report(message.value).report_id] += 1
        except InvalidReport as exc:
            kinds[exc.kind] += 1
    truth = sim.truth_dict()
    assert len(ids) == truth["accepted"]
    assert sum(ids.values()) - len(ids) == truth["duplicates"] > 0
    assert dict(kinds) == truth["dead_letters_by_kind"]
    assert set(kinds) == set(BAD_KINDS)  # 600 bad payloads cover every kind


def test_labels_one_per_accepted_report_in_eval_format(run):
    sim, messages = run
    labels = [json.loads(m.label) for m in messages if m.label is not None]
    assert len(labels) == sim.truth.accepted == len({lb["report_id"] for lb in labels})
    for label in labels:
        assert set(label) == {"report_id", "codes", "severity"}
        assert label["codes"] == sorted(set(label["codes"]))
        assert (label["severity"] is None) == (not label["codes"])


def test_findings_truth_matches_the_labels(run):
    sim, messages = run
    truth = sim.truth_dict()
    severities = Counter(json.loads(m.label)["severity"] for m in messages if m.label is not None)
    assert truth["reports_by_severity"] == {k: v for k, v in severities.items() if k}
    by_code: Counter[str] = Counter()
    for codes in truth["findings"].values():
        for code, per_severity in codes.items():
            by_code[code] += sum(per_severity.values())
    assert dict(by_code) == {c: sum(s.values()) for c, s in truth["findings_by_code"].items()}


def test_most_reports_are_routine(run):
    sim, _ = run
    share = sim.truth.accepted and sim.truth_dict()["reports_with_findings"] / sim.truth.accepted
    assert 0.08 < share < 0.3


def test_retries_repeat_the_same_bytes_later(run):
    _, messages = run
    first: dict[bytes, int] = {}
    repeats = 0
    for position, message in enumerate(messages):
        if message.label is None and message.key is not None and message.value in first:
            assert first[message.value] < position
            repeats += 1
        first.setdefault(message.value, position)
    assert repeats > 0


def test_keys_are_report_ids_as_apps_send_them(run):
    _, messages = run
    for message in messages[:3000]:
        rid = report_id_of(message.value)
        assert message.key == (rid.encode() if rid else None)


def test_reported_at_follows_the_clock(run):
    _, messages = run
    stamps = [
        datetime.fromisoformat(json.loads(m.value)["reported_at"])
        for m in messages
        if m.label is not None
    ]
    assert stamps == sorted(stamps)
    assert all(s.utcoffset() is not None for s in stamps)


def test_valid_reports_use_the_geography(run):
    _, messages = run
    for message in messages[:2000]:
        if message.label is None:
            continue
        report = json.loads(message.value)
        code, abbr, number = report["grid_id"].split("-")
        assert len(code) == 6 and abbr.isupper() and number.isdigit()
        if "lat" in report:
            assert 28.8 <= report["lat"] <= 30.5 and 120.8 <= report["lon"] <= 122.5


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_each_bad_kind_gets_that_reason_from_intake(kind):
    import random

    sim = Simulator(SimConfig(count=1, seed=3))
    report, _ = sim.report("sim-bad-1", 36_000.0, None)
    maker = BAD_KINDS[kind][1]
    for seed in range(40):  # every variant the maker draws
        raw = maker(random.Random(seed), report)
        with pytest.raises(InvalidReport) as caught:
            parse_report(raw)
        assert caught.value.kind == kind, raw[:200]


def test_bad_payload_names_its_kind():
    import random

    sim = Simulator(SimConfig(count=1, seed=3))
    report, _ = sim.report("sim-bad-2", 36_000.0, None)
    rng = random.Random(1)
    for _ in range(200):
        kind, raw = bad_payload(rng, report)
        with pytest.raises(InvalidReport) as caught:
            parse_report(raw)
        assert caught.value.kind == kind


def test_severity_of_a_label_is_its_highest_finding(run):
    _, messages = run
    for message in messages:
        if message.label is None:
            continue
        label = json.loads(message.label)
        if label["codes"]:
            assert label["severity"] in SEVERITY_RANK
