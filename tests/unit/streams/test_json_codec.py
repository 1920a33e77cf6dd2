"""Faust's json codec, trimmed: the same bytes, without orjson's spare buffer."""

from __future__ import annotations

import tracemalloc

import faust
from faust.serializers import codecs

from streams.json_codec import TrimmedJson, install


def _kept_bytes(encode: object, count: int = 2_000) -> float:
    """What ``count`` encoded keys, kept, take in memory: bytes a key."""
    tracemalloc.start()
    try:
        kept = [encode(f"esc:{n:032x}") for n in range(count)]  # type: ignore[operator]
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(kept) == count
    return size / count


def test_the_encoding_is_faust_json_byte_for_byte():
    plain, trimmed = codecs.json(), TrimmedJson()
    for value in ("esc:1", {"a": [1, 2.5, None], "b": "网格"}, 42, ["x"]):
        assert trimmed.dumps(value) == plain.dumps(value)
        assert trimmed.loads(trimmed.dumps(value)) == value


def test_a_kept_key_takes_about_its_own_size():
    trimmed = _kept_bytes(TrimmedJson().dumps)
    assert trimmed < 200  # 40 bytes of JSON in a bytes object (~80), and the list's slot
    untrimmed = _kept_bytes(codecs.json().dumps)
    assert untrimmed > 5 * trimmed  # orjson's buffer: ~1 KB (3.11), ~4 KB (3.12 and later)


def test_installed_it_encodes_the_keys_faust_keeps():
    """Faust's stores encode table keys through the app's serializer registry, by name."""
    install()
    assert isinstance(codecs.get_codec("json"), TrimmedJson)
    registry = faust.App("gw-codec-unit").serializers
    assert registry.dumps_key(None, "esc:1", serializer="json") == b'"esc:1"'
    kept = _kept_bytes(lambda key: registry.dumps_key(None, key, serializer="json"))
    assert kept < 200
