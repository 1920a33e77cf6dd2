import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.retention import Expiry


def test_nothing_is_due_before_its_retention_passed():
    expiry = Expiry(keep_s=60)
    expiry.note(0, "a", at=1000)
    assert expiry.due(0, now=1060) == []  # keys are kept by whole second: up to 1 s late
    assert expiry.due(0, now=1061) == ["a"]
    assert expiry.due(0, now=5000) == []  # taken once


def test_due_is_per_partition():
    expiry = Expiry(keep_s=10)
    expiry.note(0, "a", at=0)
    expiry.note(1, "b", at=0)
    assert expiry.due(1, now=100) == ["b"]
    assert expiry.due(2, now=100) == []
    assert expiry.due(0, now=100) == ["a"]


def test_due_takes_a_bounded_number_oldest_first():
    expiry = Expiry(keep_s=10, per_call=2)
    for i in range(5):
        expiry.note(0, f"k{i}", at=i)
    assert expiry.due(0, now=100) == ["k0", "k1"]
    assert expiry.due(0, now=100) == ["k2", "k3"]
    assert expiry.due(0, now=100) == ["k4"]
    assert len(expiry) == 0


def test_a_younger_key_is_not_taken_with_its_elders():
    expiry = Expiry(keep_s=10, per_call=10)
    expiry.note(0, "old", at=0)
    expiry.note(0, "young", at=50)
    assert expiry.due(0, now=20) == ["old"]
    assert len(expiry) == 1


def test_rebuild_replaces_what_was_noted_and_sorts_by_time():
    expiry = Expiry(keep_s=10, per_call=10)
    expiry.note(0, "gone", at=0)
    expiry.rebuild([(3, "late", 30.0), (3, "early", 5.0), (4, "other", 1.0)])
    assert len(expiry) == 3
    assert expiry.due(0, now=1000) == []
    assert expiry.due(3, now=20) == ["early"]
    assert expiry.due(3, now=41) == ["late"]
    assert expiry.due(4, now=41) == ["other"]


@pytest.mark.parametrize(("keep_s", "per_call"), [(0, 4), (-1, 4), (10, 0)])
def test_nonsense_settings_are_refused(keep_s, per_call):
    with pytest.raises(ValueError, match="keep_s"):
        Expiry(keep_s=keep_s, per_call=per_call)


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=50), min_size=1, max_size=60),
    steps=st.lists(st.floats(min_value=0, max_value=80), min_size=1, max_size=60),
    per_call=st.integers(min_value=1, max_value=5),
)
def test_every_key_comes_out_once_and_never_early(gaps, steps, per_call):
    keep = 100.0
    expiry = Expiry(keep_s=keep, per_call=per_call)
    written, at = {}, 0.0
    for i, gap in enumerate(gaps):  # times grow within a partition, as broker times do
        at += gap
        written[f"k{i}"] = at
        expiry.note(0, f"k{i}", at)
    now, taken = 0.0, []
    for step in [*steps, 10_000.0]:
        now += step
        while keys := expiry.due(0, now):
            assert len(keys) <= per_call
            assert all(written[k] <= now - keep for k in keys)  # never before its time
            taken += keys
    assert sorted(taken) == sorted(written)  # all of them, each once


class Failing(dict):
    def __delitem__(self, key):
        raise RuntimeError("changelog gone")


def entry_time(entry: object) -> float:
    return entry if isinstance(entry, float) else float("-inf")  # "legacy": no time of its own


def test_a_sweep_deletes_what_is_due_and_still_past_retention_and_counts_it():
    counted: list[int] = []
    expiry = Expiry(keep_s=10, per_call=10, deleted=counted.append)
    table = {"old": 0.0, "again": 50.0, "legacy": "no time", "young": 15.0}
    for key in ("old", "again", "legacy"):
        expiry.note(0, key, at=0.0)  # "again" was written anew since
    expiry.note(0, "young", at=15.0)
    expiry.sweep(table, 0, now=20.0, time_of=entry_time)
    assert table == {"again": 50.0, "young": 15.0}
    assert counted == [2]


def test_a_failing_delete_is_logged_not_raised(caplog):
    counted: list[int] = []
    expiry = Expiry(keep_s=10, name="intake-seen-reports", deleted=counted.append)
    expiry.note(3, "old", at=0.0)
    expiry.sweep(Failing(old=0.0), 3, now=20.0, time_of=float)
    assert "could not delete expired intake-seen-reports of partition 3" in caplog.text
    assert counted == []


def test_a_key_with_the_separator_in_it_comes_out_whole():
    expiry = Expiry(keep_s=10, per_call=10)
    expiry.note(0, "odd\x1fkey", at=0)
    expiry.note(0, "plain", at=0)
    expiry.note(0, "next", at=1)  # a later second: the first one would be packed
    expiry.note(0, "last", at=2)
    assert len(expiry) == 4
    assert sorted(expiry.due(0, now=100)) == ["last", "next", "odd\x1fkey", "plain"]


def test_a_kept_report_id_costs_about_its_length():
    """Seen ids are kept for days: 100,000 of them (36 characters, 400 a second) in < 5 MB."""
    import gc
    import tracemalloc

    expiry = Expiry(keep_s=8 * 86_400)
    tracemalloc.start()
    try:
        for n in range(100_000):
            expiry.note(n % 6, f"{n:08d}-1b9d-4c2e-9f3a-7e1d2c3b4a5f", at=1_700_000_000 + n / 400)
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(expiry) == 100_000
    assert kept < 5_000_000  # 3.9 MB; unpacked, the strings and list slots took 9.6 MB
