"""Escalation against the real broker, with a real webhook receiver standing in for responders."""

from __future__ import annotations

import functools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer

from schemas import AlertDeadLetterV1, alert_dead_letter_adapter
from streams.escalation.policy import DEFAULT_POLICY_FILE, load_policy
from streams.escalation.responder import run_responder
from streams.settings import DEV_API_TOKEN
from streams.topic_reader import read_topic

from .conftest import RECEIVER_SECRET, Pipeline, Receiver, Worker, wait_for

pytestmark = pytest.mark.integration

TIMEOUT_S = 4  # every level's ack timeout in the test policy
FRAUD_TEXT = "独居老人手机被远程控制，骗子冒充银行客服，正在往安全账户转账"
VICTIM_PHONE = "13912345678"


def fast_policy(tmp_path: Path) -> Path:
    """The shipped policy with every ack timeout cut to seconds and no repeats."""
    policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    for rule in policy["escalations"]:
        rule["repeat"] = 0
        for level in rule["levels"]:
            level["ack_timeout"] = f"{TIMEOUT_S}s"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def escalating(pipeline: Pipeline, receiver: Receiver, tmp_path: Path) -> Pipeline:
    """The pipeline's workers escalate to ``receiver`` with the fast policy."""
    pipeline.extra_env |= {
        "GRID_ESCALATION__POLICY_FILE": str(fast_policy(tmp_path)),
        "GRID_ESCALATION__WEBHOOK_BASE_URL": receiver.url,
        "GRID_ESCALATION__WEBHOOK_SECRET": RECEIVER_SECRET.decode(),
        "GRID_ESCALATION__TICK_INTERVAL_S": "0.2",
    }
    return pipeline


def publish(pipeline: Pipeline, *reports: dict[str, Any]) -> None:
    producer = KafkaProducer(bootstrap_servers=pipeline.settings.kafka.bootstrap_list, acks="all")
    for report in reports:
        producer.send(
            pipeline.settings.topics.reports,
            key=report["report_id"].encode(),
            value=json.dumps(report, ensure_ascii=False).encode(),
        )
    producer.flush()
    producer.close()


def fraud_report(report_factory, report_id: str, address: str, **more: Any) -> dict[str, Any]:
    return report_factory(
        report_id=report_id,
        text=FRAUD_TEXT,
        address=address,
        contact_phone=VICTIM_PHONE,
        lat=None,
        lon=None,
        **more,
    )


def to(receiver: Receiver, target: str, escalation_id: str | None = None) -> list[dict[str, Any]]:
    return [
        d
        for d in receiver.deliveries()
        if d["target"] == target
        and (escalation_id is None or d["payload"]["escalation_id"] == escalation_id)
    ]


def http(worker: Worker, method: str, path: str, token: str = DEV_API_TOKEN, body=None):
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{worker.port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_fraud_in_progress_reaches_police_and_bank_at_once_and_climbs_unacknowledged(
    escalating, receiver, start_worker, report_factory
):
    worker = start_worker()
    publish(escalating, fraud_report(report_factory, "fraud-1", "翠柏里5幢301"))

    first = ("anti_fraud_centre", "bank_hotline", "community")
    wait_for(lambda: all(to(receiver, t) for t in first), 60, worker._died)
    police, bank, community = (to(receiver, t)[0] for t in first)
    assert police["payload"]["escalation_id"] == bank["payload"]["escalation_id"]
    assert abs(police["received_at"] - bank["received_at"]) < 1.0, "not at once"
    assert police["payload"]["level"] == 0
    # Police and bank get the raw phone number; the community sees it masked only.
    assert police["payload"]["pii"][0]["contact_phone"] == VICTIM_PHONE
    assert bank["payload"]["pii"][0]["text"] == FRAUD_TEXT
    assert "pii" not in community["payload"]
    assert VICTIM_PHONE not in json.dumps(community["payload"])
    assert community["payload"]["reports"][0]["contact_phone"] == "139****5678"

    wait_for(lambda: bool(to(receiver, "street_platform")), 30, worker._died)
    street = to(receiver, "street_platform")[0]
    assert street["payload"]["level"] == 1
    assert street["received_at"] - police["received_at"] >= TIMEOUT_S - 0.5
    assert "pii" not in street["payload"]
    # opened, notified, escalated, notified
    assert worker.metric_sum("grid_escalation_events_total") >= 4
    # The command center's gauges (refreshed every 5 s): open, overdue, unacknowledged for long.
    wait_for(lambda: worker.metric_sum("grid_escalations_overdue") == 1, 15, worker._died)
    assert worker.metric_sum("grid_escalation_oldest_unacknowledged_seconds") >= TIMEOUT_S


def http_status(worker: Worker, path: str) -> int:
    """The status of a GET without any token."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}{path}", timeout=10) as r:  # noqa: S310
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_acknowledged_it_stops_climbing_and_the_timeline_says_who(
    escalating, receiver, start_worker, report_factory
):
    worker = start_worker()
    publish(
        escalating,
        fraud_report(report_factory, "fraud-a", "槐树路7号"),
        fraud_report(report_factory, "fraud-b", "槐树路7号", reporter_role="resident"),
    )
    wait_for(lambda: bool(to(receiver, "anti_fraud_centre")), 60, worker._died)
    esc_id = to(receiver, "anti_fraud_centre")[0]["payload"]["escalation_id"]

    assert http(worker, "POST", f"/escalations/{esc_id}/ack", token="wrong")[0] == 401
    assert http(worker, "POST", "/escalations/esc-330203-0000000000000000/ack")[0] == 404
    status, reply = http(worker, "POST", f"/escalations/{esc_id}/ack", body={"by": "王警官"})
    assert (status, reply["status_before"]) == (202, "open")

    time.sleep(TIMEOUT_S * 2)  # two timeouts pass: unacknowledged it would have climbed twice
    assert to(receiver, "street_platform", esc_id) == []
    assert worker.metric_sum("grid_escalation_oldest_unacknowledged_seconds") == 0
    assert worker.metric_sum("grid_escalations_open") == 1  # acknowledged is still open
    # Lag is read every 15 s, per source partition the worker owns.
    lags = [x for x in worker.metrics().splitlines() if x.startswith("grid_consumer_lag_messages{")]
    if not lags:  # read every 15 s
        time.sleep(16)
        lags = [x for x in worker.metrics().splitlines() if x.startswith("grid_consumer_lag")]
    assert any(f'topic="{escalating.settings.topics.reports}"' in x for x in lags), lags
    assert not any("changelog" in x or "__assignor" in x for x in lags), lags
    status, state = http(worker, "GET", f"/escalations/{esc_id}")
    assert status == 200
    assert state["status"] == "acknowledged"
    assert state["report_count"] == 2, "the second report at the same place did not join"
    kinds = [(e["type"], e.get("by")) for e in state["timeline"]]
    assert ("acknowledged", "王警官") in kinds
    assert [k for k, _ in kinds][:2] == ["opened", "notified"]

    # Resolved through Kafka instead of HTTP.
    producer = KafkaProducer(bootstrap_servers=escalating.settings.kafka.bootstrap_list)
    action = {"schema_version": 1, "escalation_id": esc_id, "action": "resolve", "by": "社区"}
    producer.send(escalating.settings.topics.acks, json.dumps(action, ensure_ascii=False).encode())
    producer.send(escalating.settings.topics.acks, b'{"escalation_id": "nope"}')
    producer.flush()
    producer.close()
    wait_for(lambda: http(worker, "GET", f"/escalations/{esc_id}")[1]["status"] == "resolved", 30)

    s = escalating.settings
    letters = [
        alert_dead_letter_adapter.validate_json(r.value)
        for r in read_topic(s.kafka.bootstrap_list, s.topics.alerts_dlq, idle_timeout_ms=2000)
    ]
    assert [letter.kind for letter in letters] == ["invalid_action"]
    assert "schema_version" in letters[0].reason or "action" in letters[0].reason


def test_a_worker_sigkill_mid_escalation_neither_loses_nor_repeats_a_notification(
    escalating, receiver, start_worker, report_factory
):
    first = start_worker()
    publish(escalating, fraud_report(report_factory, "fraud-k", "百丈街道88号"))
    wait_for(lambda: bool(to(receiver, "anti_fraud_centre")), 60, first._died)
    esc_id = to(receiver, "anti_fraud_centre")[0]["payload"]["escalation_id"]
    time.sleep(TIMEOUT_S - 1.5)  # kill just before the first timeout passes
    first.kill()

    second = start_worker(first.instance_id, first.port)
    wait_for(lambda: bool(to(receiver, "district_command", esc_id)), 90, second._died)
    mine = [d for d in receiver.deliveries() if d["payload"]["escalation_id"] == esc_id]
    targets = sorted(d["target"] for d in mine)
    assert targets == sorted(
        ["anti_fraud_centre", "bank_hotline", "community", "street_platform", "district_command"]
    )
    # Each delivery id arrived once (the receiver counts repeats of an id as attempts).
    assert [d["attempts"] for d in mine] == [1] * len(mine), mine
    levels = {d["target"]: d["payload"]["level"] for d in mine}
    assert (levels["street_platform"], levels["district_command"]) == (1, 2)


def test_a_wrong_signature_is_refused_by_the_receiver_and_dead_lettered(
    escalating, receiver, start_worker, report_factory
):
    escalating.extra_env["GRID_ESCALATION__WEBHOOK_SECRET"] = "not-the-receivers-secret"
    worker = start_worker()
    publish(escalating, fraud_report(report_factory, "fraud-s", "中山西路1号"))
    s = escalating.settings

    def undeliverable() -> list[AlertDeadLetterV1]:
        return [
            letter
            for r in read_topic(s.kafka.bootstrap_list, s.topics.alerts_dlq, idle_timeout_ms=1000)
            if (letter := alert_dead_letter_adapter.validate_json(r.value)).kind == "undeliverable"
        ]

    wait_for(lambda: len(undeliverable()) >= 3, 60, worker._died)
    letters = undeliverable()
    assert {letter.target for letter in letters} >= {"anti_fraud_centre", "bank_hotline"}
    assert {letter.http_status for letter in letters} == {401}
    assert receiver.deliveries() == []


def test_one_scam_number_in_three_grids_opens_a_campaign_for_the_anti_fraud_centre(
    escalating, receiver, start_worker, report_factory
):
    worker = start_worker()
    text = "张阿姨接到冒充公检法电话，对方让她转账到安全账户，对方号码170-1234-5678，已被劝阻"
    publish(
        escalating,
        *(
            report_factory(report_id=f"scam-{n}", grid_id=f"330203-GL-0{n}", text=text)
            for n in (11, 12, 13)
        ),
    )

    def campaign() -> list[dict[str, Any]]:
        return [
            d for d in to(receiver, "anti_fraud_centre") if d["payload"]["code"] == "FRAUD_CAMPAIGN"
        ]

    wait_for(lambda: bool(campaign()), 60, worker._died)
    (alert,) = campaign()
    payload = alert["payload"]
    assert payload["campaign"]["indicator"] == "170****5678"
    assert sorted(payload["campaign"]["grids"]) == [
        "330203-GL-011",
        "330203-GL-012",
        "330203-GL-013",
    ]
    # Opened by the first report; the other two join it (one notification, three reports).
    wait_for(
        lambda: (
            http(worker, "GET", f"/escalations/{payload['escalation_id']}")[1]["report_count"] == 3
        ),
        30,
    )
    assert "17012345678" not in json.dumps(to(receiver, "community"))


def test_a_responder_at_the_terminal_acknowledges_what_reached_the_role(
    escalating, receiver, start_worker, report_factory
):
    worker = start_worker()
    publish(escalating, fraud_report(report_factory, "fraud-t", "江厦街1号"))
    shown: list[str] = []

    def typed() -> Iterator[str]:
        wait_for(lambda: any(line.startswith("[1]") for line in shown), 60, worker._died)
        yield "ack 1 已联系银行止付\n"
        yield "quit\n"

    policy = load_policy(Path(escalating.extra_env["GRID_ESCALATION__POLICY_FILE"]))
    run_responder(escalating.settings, policy, "bank", "李柜员", lines=typed(), say=shown.append)

    assert any("sent for [1]" in line for line in shown), shown
    # The terminal can show the escalation before the bank's webhook has been delivered.
    wait_for(lambda: bool(to(receiver, "bank_hotline")), 30, worker._died)
    esc_id = to(receiver, "bank_hotline")[0]["payload"]["escalation_id"]

    def acknowledged_by() -> str | None:
        timeline = http(worker, "GET", f"/escalations/{esc_id}")[1]["timeline"]
        return next((e["by"] for e in timeline if e["type"] == "acknowledged"), None)

    wait_for(lambda: acknowledged_by() == "李柜员", 30)
    assert not any("13912345678" in line for line in shown), "the terminal showed a raw number"


def test_two_workers_share_the_districts_and_either_one_takes_an_ack(
    escalating, receiver, start_worker, report_factory
):
    first, second = start_worker(), start_worker()

    def owns_partitions(worker: Worker) -> bool:  # lag is reported for owned partitions only
        return "grid_consumer_lag_messages{" in worker.metrics()

    # Until both have joined the group: a worker still joining answers 503 (retry shortly).
    wait_for(lambda: owns_partitions(first) and owns_partitions(second), 150, first._died)
    districts = [
        "海曙区",
        "江北区",
        "镇海区",
        "北仑区",
        "鄞州区",
        "奉化区",
        "余姚市",
        "慈溪市",
        "宁海县",
        "象山县",
    ]
    publish(
        escalating,
        *(
            fraud_report(report_factory, f"fraud-d{n}", f"人民路{n}号", district=district)
            for n, district in enumerate(districts)
        ),
    )

    def police_ids() -> set[str]:
        return {d["payload"]["escalation_id"] for d in to(receiver, "anti_fraud_centre")}

    wait_for(lambda: len(police_ids()) == 10, 90, lambda: first._died() or second._died())
    # Each escalation is acknowledged through the worker that does NOT hold it half the time:
    # that worker forwards the request to the owner.
    for n, esc_id in enumerate(sorted(police_ids())):
        worker = (first, second)[n % 2]
        status, reply = http(worker, "POST", f"/escalations/{esc_id}/ack", body={"by": "值班"})
        assert status == 202, (esc_id, reply)

    def acknowledged(esc_id: str) -> bool:  # asked of one worker: it forwards when not owner
        return bool(http(first, "GET", f"/escalations/{esc_id}")[1]["status"] == "acknowledged")

    for esc_id in police_ids():
        wait_for(functools.partial(acknowledged, esc_id), 30)

    # The command center's list: the whole city from either worker, fraud first. It is built
    # from the lifecycle events, one produce-fetch hop behind the escalator's own state.
    def board_shows_the_acks() -> bool:
        board = http(second, "GET", "/escalations")[1]
        mine = [e for e in board["escalations"] if e["escalation_id"] in police_ids()]
        return len(mine) == 10 and all(e["acknowledged"] for e in mine)

    wait_for(board_shows_the_acks, 30)
    status, board = http(second, "GET", "/escalations")
    assert (status, board["complete"]) == (200, True)
    mine = [e for e in board["escalations"] if e["escalation_id"] in police_ids()]
    assert len(mine) == 10
    assert all(e["acknowledged"] and e["code"] == "TELECOM_FRAUD" for e in mine)
    assert http(second, "GET", "/escalations", token="wrong")[0] == 401

    # One report's timeline, the same from either worker, whichever holds its pieces.
    for n in range(len(districts)):
        answers = [http(w, "GET", f"/reports/fraud-d{n}") for w in (first, second)]
        assert [status for status, _ in answers] == [200, 200], answers
        steps = [[s["step"] for s in reply["timeline"]] for _, reply in answers]
        assert steps[0] == steps[1]
        assert steps[0][:3] == ["received", "accepted", "classified"], steps[0]
        assert {"escalation opened", "escalation notified", "escalation acknowledged"} <= set(
            steps[0]
        )
        timeline = answers[0][1]["timeline"]
        times = [datetime.fromisoformat(s["at"]) for s in timeline]
        assert times == sorted(times)
        assert [f["code"] for f in timeline[2]["findings"]] == ["TELECOM_FRAUD"]
        assert answers[0][1]["escalations"] == [timeline[-1]["escalation_id"]]
    assert http(first, "GET", "/reports/never-sent")[0] == 404
    # Faust's own unauthenticated views (table contents, cluster layout) are off.
    for path in (
        "/table/",
        f"/table/{escalating.settings.app_id}-escalator/",
        "/router/",
        "/stats/",
    ):
        assert http_status(first, path) == 404, path
    for path in ("/counters", "/escalations", "/live/stream", "/reports/fraud-d0"):
        assert http_status(first, path) == 401, path
    assert http(first, "GET", "/reports/fraud-d0", token="wrong")[0] == 401
    opened = first.metric_sum("grid_escalation_events_total") + second.metric_sum(
        "grid_escalation_events_total"
    )
    assert opened >= 20  # opened + notified for each of the 10, shared between the two
    assert first.metric_sum("grid_escalation_events_total") > 0
    assert second.metric_sum("grid_escalation_events_total") > 0
