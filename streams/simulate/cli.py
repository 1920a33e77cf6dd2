"""``gridwatch simulate``: write or publish simulated reports, their labels and the truth.

    gridwatch simulate --count 20000 --seed 1 --out sim.jsonl --labels sim.labels.jsonl
    gridwatch simulate --count 3580000 --out year.jsonl --truth year.truth.json
    gridwatch simulate --count 500000 --seed 7 --publish --rate 2000

Messages go to ``--out`` (``-`` or nothing: stdout) and/or, with ``--publish``, to the reports
topic. The generation rate is printed on stderr, measured in wall and CPU time (the CPU figure
is what one core gives when the machine is shared).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from streams.simulate.generator import DEFAULT_START, Message, SimConfig, Simulator

__all__ = ["config_from_args", "register", "run", "write_messages"]

_BAR_EVERY = 10_000


def register(subparsers: Any) -> None:
    """Add ``simulate`` to the ``gridwatch`` subcommands."""
    p = subparsers.add_parser("simulate", help="realistic labelled grid reports (file or Kafka)")
    p.add_argument("--count", type=int, required=True, help="messages in all (retries, bad too)")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--out", help="JSON-lines file of messages ('-': stdout)")
    p.add_argument("--labels", type=Path, help="ground-truth labels, as gridwatch eval reads")
    p.add_argument("--truth", type=Path, help="summary: accepted, duplicates, dead letters...")
    p.add_argument("--start", default=DEFAULT_START.isoformat(), help="simulated clock start")
    p.add_argument("--per-day", type=float, default=9800.0, help="reports a day (Ningbo: 9,800)")
    p.add_argument("--bad-share", type=float, default=0.005, help="share of bad payloads")
    p.add_argument("--retry-share", type=float, default=0.02, help="share of reports re-sent")
    p.add_argument("--no-campaigns", action="store_true", help="no patrol-campaign bursts")
    p.add_argument("--prefix", default="", help="report_id prefix (default sim<seed>)")
    p.add_argument("--publish", action="store_true", help="send to the reports topic")
    p.add_argument("--rate", type=float, default=0, help="messages/s when publishing (0: max)")
    p.add_argument(
        "--compression",
        default="gzip",
        choices=["none", "gzip", "lz4"],
        help="gzip: least CPU per message of what the project installs (lz4 needs the lz4 package)",
    )
    p.add_argument("--linger-ms", type=int, default=100)
    p.add_argument("--batch-kb", type=int, default=1024)
    p.add_argument("--acks", default="all", choices=["all", "1"])
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """The simulation settings named on the command line."""
    start = datetime.fromisoformat(args.start)
    if start.tzinfo is None:
        msg = f"--start needs an offset, e.g. {DEFAULT_START.isoformat()}"
        raise SystemExit(msg)
    return SimConfig(
        count=args.count,
        seed=args.seed,
        start=start,
        per_day=args.per_day,
        bad_share=args.bad_share,
        retry_share=args.retry_share,
        campaigns=not args.no_campaigns,
        prefix=args.prefix,
    )


def run(args: argparse.Namespace) -> int:
    """Generate, write and/or publish; print the rate and what was sent."""
    if args.publish and args.compression == "lz4" and not _has_lz4():
        print("--compression lz4 needs the lz4 package (pip install lz4)", file=sys.stderr)
        return 2
    sim = Simulator(config_from_args(args))
    started, cpu = time.perf_counter(), time.process_time()
    with ExitStack() as stack:
        out = _open(stack, args.out) if args.out or not args.publish else None
        labels = stack.enter_context(args.labels.open("wb")) if args.labels else None
        messages = write_messages(sim.messages(), out, labels)
        status = _publish(args, messages) if args.publish else _drain(args, messages)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if args.truth:
        args.truth.write_bytes(orjson.dumps(sim.truth_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    _print_summary(sim, wall, cpu)
    return status


def write_messages(
    messages: Iterable[Message], out: IO[bytes] | None, labels: IO[bytes] | None
) -> Iterator[Message]:
    """Pass messages on, writing each to ``out`` and each label line to ``labels``."""
    for message in messages:
        if out is not None:
            out.write(message.value + b"\n")
        if labels is not None and message.label is not None:
            labels.write(message.label + b"\n")
        yield message


def _open(stack: ExitStack, out: str | None) -> IO[bytes]:
    if out in (None, "-"):
        return sys.stdout.buffer
    return stack.enter_context(Path(out).open("wb"))


def _drain(args: argparse.Namespace, messages: Iterable[Message]) -> int:
    if args.quiet or args.out in (None, "-"):
        for _ in messages:
            pass
        return 0
    from tqdm import tqdm

    with tqdm(total=args.count, unit="msg", unit_scale=True, file=sys.stderr) as bar:
        for n, _ in enumerate(messages, start=1):
            if n % _BAR_EVERY == 0:
                bar.update(_BAR_EVERY)
        bar.update(args.count % _BAR_EVERY)
    return 0


def _publish(args: argparse.Namespace, messages: Iterable[Message]) -> int:
    from streams.settings import Settings
    from streams.simulate.publish import ProducerOptions, publish_messages

    options = ProducerOptions(
        compression=None if args.compression == "none" else args.compression,
        linger_ms=args.linger_ms,
        batch_size=args.batch_kb * 1024,
        acks=args.acks,
    )
    summary = publish_messages(
        Settings(),
        messages,
        total=args.count,
        rate=args.rate,
        options=options,
        progress=not args.quiet,
    )
    print(f"sent {summary.sent}, failed {summary.failed}", file=sys.stderr)
    for name, count in summary.errors.items():
        print(f"  {name}: {count}", file=sys.stderr)
    return 0 if summary.failed == 0 else 1


def _has_lz4() -> bool:
    from kafka.codec import has_lz4

    return bool(has_lz4())


def _print_summary(sim: Simulator, wall: float, cpu: float) -> None:
    t = sim.truth
    n = t.lines
    print(
        f"{n} messages: {t.accepted} reports, {t.duplicates} retries, "
        f"{sum(t.dead_letters.values())} bad; {t.first_reported_at} .. {t.last_reported_at}",
        file=sys.stderr,
    )
    print(
        f"{wall:.2f} s: {n / max(wall, 1e-9):,.0f} msg/s wall, {n / max(cpu, 1e-9):,.0f} msg/s"
        " per CPU second",
        file=sys.stderr,
    )
