"""The ``gridwatch`` command: topics, worker, publish, dead letters, samples and triage tools."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from streams.settings import STORES, Settings

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def _topics_create(args: argparse.Namespace) -> int:
    from streams.admin import create_topics

    settings = Settings()
    for name, state in create_topics(settings).items():
        print(f"{state:<8} {name} ({settings.kafka.partitions} partitions)")
    return 0


def _topics_list(args: argparse.Namespace) -> int:
    from streams.admin import describe_topics

    for name, partitions in sorted(describe_topics(Settings()).items()):
        print(f"{name:<48} {partitions:>3} partitions")
    return 0


def _worker(args: argparse.Namespace) -> int:
    if args.web_port is not None:
        os.environ["GRID_WEB_PORT"] = str(args.web_port)
    import mode.loop

    # Faust reads --loop only from sys.argv at `import faust`, long before app.main() sees
    # it; set the loop policy here, before anything creates a loop.
    mode.loop.use(Settings().event_loop)
    from streams.admin import create_topics
    from streams.app import app, check_environment, settings

    check_environment()
    create_topics(settings)  # ours, with our configs, before Faust would declare them bare
    import streams.command_center  # noqa: F401 - counters, escalation gauges, consumer lag
    import streams.escalation.notifier  # noqa: F401 - escalation agents, notifier
    import streams.escalation.web  # noqa: F401 - ack/resolve endpoints
    import streams.intake  # noqa: F401 - the intake agent (with triage) on the app
    import streams.live  # noqa: F401 - the wall-screen page
    import streams.report_timeline  # noqa: F401 - GET /reports/{id}

    sys.argv = [
        "gridwatch",
        "worker",
        "--loglevel",
        settings.log_level,
    ]
    app.main()
    return 0


def _publish(args: argparse.Namespace) -> int:
    from streams.publish import publish_lines, read_lines

    total = sum(1 for _ in read_lines(args.file))
    summary = publish_lines(Settings(), read_lines(args.file), total=total, progress=not args.quiet)
    print(f"sent {summary.sent}, failed {summary.failed}", file=sys.stderr)
    for name, count in summary.errors.items():
        print(f"  {name}: {count}", file=sys.stderr)
    return 0 if summary.failed == 0 else 1


def _dlq_show(args: argparse.Namespace) -> int:
    from streams.dlq import format_dead_letter, read_dead_letters

    kinds: Counter[str] = Counter()
    for letter in read_dead_letters(Settings(), limit=args.limit):
        kinds[letter.error_kind] += 1
        print(format_dead_letter(letter))
    summary = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) or "none"
    print(f"\n{sum(kinds.values())} dead letters: {summary}")
    return 0


def _accepted_count(args: argparse.Namespace) -> int:
    from streams.topic_reader import read_topic

    settings = Settings()
    ids = Counter(
        json.loads(r.value)["report_id"]
        for r in read_topic(settings.kafka, settings.topics.accepted)
    )
    dups = sum(n - 1 for n in ids.values())
    print(f"{sum(ids.values())} accepted, {len(ids)} distinct report ids, {dups} duplicates")
    return 0


def _findings_count(args: argparse.Namespace) -> int:
    from schemas.findings import findings_event_adapter
    from streams.topic_reader import read_topic

    settings = Settings()
    counts: Counter[tuple[str, str]] = Counter()
    reports = 0
    for record in read_topic(settings.kafka, settings.topics.findings):
        reports += 1
        event = findings_event_adapter.validate_json(record.value)
        counts.update((f.code, f.severity) for f in event.findings)
    print(f"{reports} reports triaged, {sum(counts.values())} findings")
    for (code, severity), n in sorted(counts.items()):
        print(f"  {code:<24} {severity:<9} {n}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from streams.sample import make_sample

    sample = make_sample(
        args.valid,
        args.invalid,
        args.retries,
        seed=args.seed,
        prefix=args.prefix,
        recent=args.recent,
    )
    with args.out.open("wb") as out:
        for line in sample.lines(random.Random(args.seed)):
            out.write(line + b"\n")
    print(f"wrote {args.valid} valid, {args.retries} retries, {args.invalid} bad to {args.out}")
    return 0


def _receiver(args: argparse.Namespace) -> int:
    import asyncio

    from streams.escalation.receiver import run_receiver

    settings = Settings()
    secret = (args.secret or settings.escalation.webhook_secret.get_secret_value()).encode()
    try:
        asyncio.run(run_receiver(args.host, args.port, secret, fail_first=args.fail_first))
    except KeyboardInterrupt:
        pass
    return 0


def _responder(args: argparse.Namespace) -> int:
    from streams.escalation.policy import load_policy
    from streams.escalation.responder import run_responder

    settings = Settings()
    policy = load_policy(settings.escalation.policy_file)
    roles = sorted({t.role for t in policy.targets.values()})
    if args.role not in roles:
        print(f"unknown role {args.role!r}; the policy has {roles}", file=sys.stderr)
        return 2
    return run_responder(settings, policy, args.role, args.by)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="gridwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    topics = sub.add_parser("topics", help="create or list the pipeline's topics")
    topics_sub = topics.add_subparsers(dest="action", required=True)
    topics_sub.add_parser("create", help="create missing topics").set_defaults(func=_topics_create)
    topics_sub.add_parser("list", help="list topics").set_defaults(func=_topics_list)

    worker = sub.add_parser("worker", help="run a stream-processing worker")
    worker.add_argument("--web-port", type=int, help="web/metrics port (default GRID_WEB_PORT)")
    worker.set_defaults(func=_worker)

    publish = sub.add_parser("publish", help="publish a JSON-lines file of reports")
    publish.add_argument("file", type=Path)
    publish.add_argument("--quiet", action="store_true", help="no progress bar")
    publish.set_defaults(func=_publish)

    dlq = sub.add_parser("dlq", help="dead letters")
    dlq_sub = dlq.add_subparsers(dest="action", required=True)
    show = dlq_sub.add_parser("show", help="print dead letters with their reasons")
    show.add_argument("--limit", type=int, default=None)
    show.set_defaults(func=_dlq_show)

    accepted = sub.add_parser("accepted", help="accepted reports")
    accepted_sub = accepted.add_subparsers(dest="action", required=True)
    accepted_sub.add_parser("count", help="count accepted reports and duplicates").set_defaults(
        func=_accepted_count
    )

    findings = sub.add_parser("findings", help="triage findings")
    findings_sub = findings.add_subparsers(dest="action", required=True)
    findings_sub.add_parser("count", help="findings by code and severity").set_defaults(
        func=_findings_count
    )

    sample = sub.add_parser("sample", help="write sample traffic (valid, retries, bad)")
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--valid", type=int, default=200)
    sample.add_argument("--invalid", type=int, default=36)
    sample.add_argument("--retries", type=int, default=20)
    sample.add_argument("--seed", type=int, default=2025)
    sample.add_argument("--prefix", default="rpt", help="report_id prefix (fresh ids per run)")
    sample.add_argument("--recent", action="store_true", help="reported over the last hour")
    sample.set_defaults(func=_sample)

    receiver = sub.add_parser("receiver", help="run the reference webhook receiver")
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--port", type=int, default=8085)
    receiver.add_argument(
        "--secret", help="signing secret (default GRID_ESCALATION__WEBHOOK_SECRET)"
    )
    receiver.add_argument("--fail-first", type=int, default=0, help="answer N requests with 503")
    receiver.set_defaults(func=_receiver)

    responder = sub.add_parser("responder", help="watch escalations for a role and ack them")
    responder.add_argument("--role", required=True, help="police, bank, community, street, ...")
    responder.add_argument("--by", default=os.environ.get("USER", "responder"), help="your name")
    responder.set_defaults(func=_responder)

    _add_triage_commands(sub)
    _add_simulate_command(sub)
    return parser


def _add_simulate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streams.simulate import cli as simulate_cli

    simulate_cli.register(sub)


def _add_triage_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streams.triage import cli as triage_cli

    triage_cli.register(sub)
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="target", required=True)
    classify = bench_sub.add_parser("classify", help="classification alone, one core")
    triage_cli.add_bench_classify_arguments(classify)
    classify.set_defaults(func=triage_cli.bench_classify)
    escalation = bench_sub.add_parser(
        "escalation", help="publish -> first webhook delivery, p50/p95/p99, real broker"
    )
    escalation.add_argument(
        "--rates",
        default="200,1000",
        help="reports/s, comma-separated; a rate given again runs again on the same worker"
        " (1000,1000,1000), where earlier turns' unacknowledged escalations climb",
    )
    escalation.add_argument("--seconds", type=float, default=20, help="per rate")
    escalation.add_argument("--probe-every", type=int, default=20, help="1 in N is a fraud probe")
    escalation.add_argument(
        "--routine-share", type=float, default=0.8, help="share of routine notes (no finding)"
    )
    escalation.add_argument("--workers", type=int, default=1, help="worker processes")
    escalation.add_argument(
        "--store",
        default="memory://",
        choices=STORES,
        help="the workers' table store",
    )
    escalation.add_argument(
        "--compare",
        default="core,plain,quix",
        help="then the same traffic through these, each alone, for their findings latency:"
        " core (the worker without escalation), plain (aiokafka loop), quix; '' for none",
    )
    escalation.set_defaults(func=_bench_escalation)
    pipeline = bench_sub.add_parser(
        "pipeline", help="drain a backlog through one worker; variants side by side"
    )
    pipeline.add_argument("--reports", type=int, default=30_000)
    pipeline.add_argument("--routine-share", type=float, default=0.8)
    pipeline.add_argument(
        "--variant",
        action="append",
        help="NAME=VAR=VALUE,VAR=VALUE (worker environment), repeatable; first is the base",
    )
    pipeline.set_defaults(func=_bench_pipeline)
    throughput = bench_sub.add_parser(
        "throughput", help="drain one backlog with Faust, a plain aiokafka loop and Quix Streams"
    )
    throughput.add_argument("--reports", type=int, default=500_000, help="messages published")
    throughput.add_argument("--routine-share", type=float, default=0.8)
    throughput.add_argument(
        "--variant",
        action="append",
        help="KIND-xN (KIND: faust, core, floor, plain, quix, quix-eos; N processes), repeatable;"
        " default: faust, core, plain and quix at x1 and x2, quix-eos at x1 (floor: on request)",
    )
    throughput.add_argument("--keep-topics", action="store_true", help="do not delete them")
    throughput.add_argument(
        "--profile-dir",
        type=Path,
        help="run every variant's processes under cProfile, a .prof per process here",
    )
    throughput.set_defaults(func=_bench_throughput)
    soak = bench_sub.add_parser(
        "soak", help="one worker under steady simulated traffic: memory, pace, CPU over time"
    )
    soak.add_argument("--rate", type=float, default=400, help="messages/s published")
    soak.add_argument("--minutes", type=float, default=10)
    soak.add_argument("--every", type=float, default=30, help="seconds between samples")
    soak.add_argument(
        "--store",
        default="rocksdb://",
        choices=STORES,
        help="the worker's table store (memory:// keeps every table in the process)",
    )
    soak.add_argument(
        "--resolve",
        action="store_true",
        help="responders resolve every escalation within seconds of its first delivery",
    )
    soak.add_argument(
        "--retention-minutes",
        type=float,
        default=None,
        help="keep seen ids, deliveries and resolved escalations this long (default: days)",
    )
    soak.set_defaults(func=_bench_soak)


def _bench_pipeline(args: argparse.Namespace) -> int:
    import platform

    from streams.bench_pipeline import run_pipeline_bench

    variants: dict[str, dict[str, str]] = {}
    for spec in args.variant or ["default="]:
        name, _, assignments = spec.partition("=")
        env = dict(a.split("=", 1) for a in assignments.split(",") if "=" in a)
        variants[name] = env
    print(f"machine: {platform.node()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"{args.reports} reports per variant, {args.routine_share:.0%} routine notes; one worker")
    results = run_pipeline_bench(
        Settings().kafka.bootstrap_servers, args.reports, args.routine_share, variants
    )
    base = results[0].rate
    print(f"{'variant':<12} {'seconds':>8} {'reports/s':>10} {'ratio':>6}", end="")
    print(f" {'cpu s':>7} {'cpu ms/1k':>9} {'rss MB':>7}")
    for r in results:
        per_k = r.cpu_seconds / r.reports * 1e6
        print(
            f"{r.variant:<12} {r.seconds:>8.1f} {r.rate:>10.0f} {r.rate / base:>6.2f}"
            f" {r.cpu_seconds:>7.1f} {per_k:>9.0f} {r.rss_mb:>7.0f}"
        )
    return 0


def _bench_soak(args: argparse.Namespace) -> int:
    import platform

    from streams.soak import run_soak, soak_summary

    print(f"machine: {platform.node()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"one worker ({args.store} tables), {args.rate:.0f} simulated messages/s", end="")
    print(f" for {args.minutes:g} min", end="")
    if args.resolve:
        print(", escalations resolved as they are delivered", end="")
    if args.retention_minutes is not None:
        print(f", retention {args.retention_minutes:g} min", end="")
    print()
    result = run_soak(
        Settings().kafka.bootstrap_servers,
        args.rate,
        args.minutes,
        args.every,
        store=args.store,
        resolve=args.resolve,
        retention_minutes=args.retention_minutes,
    )
    print("\n".join(soak_summary(result)))
    return 0


def _bench_throughput(args: argparse.Namespace) -> int:
    import platform
    from importlib.util import find_spec

    from streams.bench_pipeline import (
        DEFAULT_VARIANTS,
        ThroughputResult,
        Variant,
        run_throughput_bench,
        throughput_table,
    )

    variants = [Variant.parse(name) for name in args.variant or DEFAULT_VARIANTS]
    if any(v.kind.startswith("quix") for v in variants) and not find_spec("quixstreams"):
        # found out only after publishing the backlog and draining the variants before it
        print(
            "the quix variants need Quix Streams: pip install -e '.[bench]'"
            " (or leave them out with --variant)",
            file=sys.stderr,
        )
        return 2
    print(f"machine: {platform.node()}, {os.cpu_count()} cpus, Python {platform.python_version()}")

    def progress(result: ThroughputResult) -> None:
        print(f"  {result.variant}: {result.rate:.0f} reports/s", file=sys.stderr, flush=True)

    expected, results = run_throughput_bench(
        Settings().kafka.bootstrap_servers,
        args.reports,
        args.routine_share,
        variants,
        keep_topics=args.keep_topics,
        on_result=progress,
        profile_dir=args.profile_dir,
    )
    print(
        f"{expected.messages} messages: {expected.valid} valid reports"
        f" ({args.routine_share:.0%} routine notes), {expected.retries} app retries,"
        f" {expected.invalid} invalid; each variant drains them all in its own group"
    )
    print(throughput_table(results))
    return 1 if any(r.problems for r in results) else 0


def _bench_escalation(args: argparse.Namespace) -> int:
    import platform
    from importlib.util import find_spec

    from streams.bench_pipeline import Variant
    from streams.escalation.bench import (
        HEADER,
        Traffic,
        compared_table,
        finding_share,
        run_bench,
        run_compared,
        traffic_messages,
    )

    settings = Settings()
    rates = [int(r) for r in args.rates.split(",")]
    traffic = Traffic(args.seconds, args.probe_every, args.routine_share)
    kinds = [kind for kind in args.compare.split(",") if kind]
    if "quix" in kinds and not find_spec("quixstreams"):
        print("quix left out: it needs Quix Streams (pip install -e '.[bench]')")
        kinds.remove("quix")
    compared = [Variant.parse(f"{kind}-x{args.workers}") for kind in kinds]
    print(f"machine: {platform.node()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    found = finding_share(
        traffic_messages(1000, Traffic(5, args.probe_every, args.routine_share), "x")
    )
    print(
        f"traffic: {args.routine_share:.0%} routine notes, the rest the sample's texts;"
        f" {found:.0%} of reports with a finding; 1 in {args.probe_every} a fraud-in-progress"
        f" probe; {args.seconds:g} s per rate"
    )
    loop = os.environ.get("GRID_EVENT_LOOP", "uvloop")
    print(f"workers: {args.workers}, event loop: {loop}, tables: {args.store}")
    bootstrap = settings.kafka.bootstrap_servers
    results = run_bench(bootstrap, rates, traffic, args.workers, store=args.store)
    print(HEADER)
    for result in results:
        print(result.row())
    print("p50-p99: publish -> first webhook delivery of the probes; findings: every report,")
    print("publish -> its record appended to the findings topic (broker time)")
    print("target: p99 < 250 ms at 1,000 reports/s (publish -> first webhook delivery)")
    if compared:
        worker = f"faust-x{args.workers}"
        others = run_compared(bootstrap, rates, traffic, compared)
        print()
        print("\n".join(compared_table(worker, {worker: results, **others}, rates)))
        print("findings latency, publish -> findings record, the same traffic through each in")
        print("turn; cpu ms: per report; faust/this: the worker's findings p99 over this one's")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridwatch`` console script."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
