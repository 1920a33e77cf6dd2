import streams.triage as triage


def test_all_lists_exactly_the_public_names():
    public = {n for n in dir(triage) if not n.startswith("_")}
    modules = {
        "engine",
        "knowledge",
        "evaluate",
        "cli",
        "agent",
        "events",
        "model",
        "train",
        "annotations",
        "lru_cache",
        "Path",
    }
    assert set(triage.__all__) == public - modules
    for name in ("TriageEngine", "Triage", "Finding", "Evidence", "load_engine"):
        assert name in triage.__all__
