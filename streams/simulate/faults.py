"""What goes wrong on the way in: app retries, and payloads intake must dead-letter.

Each bad payload is built from a valid report the way a real client gets it wrong (a
truncated upload, a legacy GBK client, a new app version, a GPS fix with lat and lon swapped,
a photo pasted into the report...), and is filed under the ``error_kind`` that
``streams.validation.parse_report`` gives it: tests hold the catalogue to that.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import accumulate

import orjson

__all__ = ["BAD_KINDS", "BadMaker", "bad_payload", "retry_count", "retry_delay"]

Report = dict[str, object]
BadMaker = Callable[[random.Random, Report], bytes]


def _dump(value: object) -> bytes:
    return orjson.dumps(value)


def _with(report: Report, **changes: object) -> bytes:
    return _dump({**report, **changes})


def _without(report: Report, *fields: str) -> bytes:
    return _dump({k: v for k, v in report.items() if k not in fields})


def _truncated(rng: random.Random, report: Report) -> bytes:
    text = _dump(report).decode()  # cut on a character, not inside one (that is not_utf8)
    return text[: rng.randint(len(text) // 3, len(text) - 2)].encode()


def _not_json(rng: random.Random, report: Report) -> bytes:
    match rng.randrange(3):
        case 0:
            return _truncated(rng, report)
        case 1:
            return repr(report).encode()  # a Python dict printed instead of dumped
        case _:
            text = str(report["text"]).replace("\n", " ")  # one message, one line
            return f"report_id={report['report_id']}&text={text}".encode()


def _not_utf8(rng: random.Random, report: Report) -> bytes:
    raw = orjson.dumps(report).decode().encode("gb18030")  # a legacy client's GBK encoding
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    return raw[:-1] + b'\xff"}'  # pure ASCII by chance: spoil it the same way


def _not_object(rng: random.Random, report: Report) -> bytes:
    match rng.randrange(3):
        case 0:
            return _dump([report, report])  # a batch sent as one message
        case 1:
            return _dump(_dump(report).decode())  # JSON encoded twice: a string
        case _:
            return b"null"


def _too_deep(rng: random.Random, report: Report) -> bytes:
    depth = rng.randint(3000, 6000)
    return b"[" * depth + b"]" * depth


def _too_large(rng: random.Random, report: Report) -> bytes:
    photo = "/9j/4AAQSkZJRgABAQ" * rng.randint(4000, 6000)  # a JPEG pasted as base64
    return _with(report, photo=photo)


def _schema_version(rng: random.Random, report: Report) -> bytes:
    return _with(report, schema_version=rng.choice([2, "1", 0]))


def _missing_field(rng: random.Random, report: Report) -> bytes:
    fields = ["grid_id", "reported_at", "channel", "reporter_role", "district", "text"]
    return _without(report, rng.choice(fields))


def _unknown_field(rng: random.Random, report: Report) -> bytes:
    name = rng.choice(["gridId", "photo_url", "category", "reporterPhone", "categoryHint"])
    return _with(report, **{name: "x"})


def _wrong_type(rng: random.Random, report: Report) -> bytes:
    match rng.randrange(3):
        case 0:
            return _with(report, lat="29.87", lon="121.54")
        case 1:
            return _with(report, grid_id=int(rng.random() * 900) + 100)
        case _:
            return _with(report, text=["照片1", "照片2"])


def _unknown_value(rng: random.Random, report: Report) -> bytes:
    field, value = rng.choice(
        [
            ("district", "宁波市"),
            ("district", "高新区"),
            ("district", "鄞州"),
            ("channel", "wechat"),
            ("reporter_role", "police"),
            ("place_type", "shop"),
        ]
    )
    return _with(report, **{field: value})


def _bad_format(rng: random.Random, report: Report) -> bytes:
    match rng.randrange(3):
        case 0:
            return _with(report, report_id=f"网格上报 {report['report_id']}")
        case 1:
            return _with(report, report_id="r" * rng.randint(65, 90))
        case _:
            return _with(report, grid_id="")


def _bad_timestamp(rng: random.Random, report: Report) -> bytes:
    stamp = str(report["reported_at"])
    value: object = rng.choice(
        [stamp[:19].replace("T", " "), stamp[:19], stamp[:16].replace("-", "/"), "昨天晚上"]
    )
    if rng.random() < 0.25:
        value = 1762175645000  # epoch milliseconds
    return _with(report, reported_at=value)


def _text_empty(rng: random.Random, report: Report) -> bytes:
    return _with(report, text=rng.choice(["", "   ", "\u3000"]))


def _text_too_long(rng: random.Random, report: Report) -> bytes:
    notice = "【转发】关于开展电动自行车安全隐患全链条整治行动的通知：各社区要高度重视，"
    return _with(report, text=notice * rng.randint(60, 80))


def _out_of_range(rng: random.Random, report: Report) -> bytes:
    lat, lon = rng.choice([(121.54, 29.87), (0.0, 0.0), (39.9, 116.4)])  # swapped, no fix, 北京
    return _with(report, lat=lat, lon=lon)


# error_kind -> (weight among bad payloads, maker); weights follow what apps get wrong most.
BAD_KINDS: dict[str, tuple[float, BadMaker]] = {
    "not_json": (15, _not_json),
    "not_utf8": (4, _not_utf8),
    "not_object": (3, _not_object),
    "too_deep": (1, _too_deep),
    "too_large": (2, _too_large),
    "unknown_schema_version": (6, _schema_version),
    "missing_field": (15, _missing_field),
    "unknown_field": (10, _unknown_field),
    "wrong_type": (12, _wrong_type),
    "unknown_value": (10, _unknown_value),
    "bad_format": (5, _bad_format),
    "bad_timestamp": (12, _bad_timestamp),
    "text_empty": (4, _text_empty),
    "text_too_long": (3, _text_too_long),
    "out_of_range": (6, _out_of_range),
}
_KINDS = tuple(BAD_KINDS)
_CUM = tuple(accumulate(w for w, _ in BAD_KINDS.values()))


def bad_payload(rng: random.Random, report: Report) -> tuple[str, bytes]:
    """A bad variant of ``report``, and the error kind intake must give it."""
    pick = rng.random() * _CUM[-1]
    kind = next(k for k, c in zip(_KINDS, _CUM, strict=True) if pick < c)
    return kind, BAD_KINDS[kind][1](rng, report)


def retry_count(rng: random.Random) -> int:
    """How many times an app re-sends one report (when it re-sends at all)."""
    r = rng.random()
    return 1 if r < 0.85 else 2 if r < 0.97 else 3


def retry_delay(rng: random.Random) -> float:
    """Seconds from the first send to a re-send: mostly soon, sometimes a day or two later."""
    r = rng.random()
    if r < 0.7:
        return rng.uniform(2, 60)  # the app timed out waiting for an answer
    if r < 0.9:
        return rng.uniform(60, 1800)  # the network came back
    return rng.uniform(3600, 2 * 86400)  # the phone was offline; its outbox syncs later
