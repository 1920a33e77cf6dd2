"""Each rule family and each kind of trap, on short reports written for the purpose."""

from __future__ import annotations

import pytest

from streams.triage import Evidence, Finding, Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes


# ---- e-bike charging -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("5幢楼道里一辆电瓶车正在充电。", "high"),
        ("租户把电动车电池拎回房间充电。", "high"),
        ("从四楼窗户吊下一根电线给楼下的电动车充电。", "medium"),
        ("有人飞线充电。", "medium"),
        ("小电驴推到屋里厢充电，一充就是一夜。", "high"),
        ("1F走廊e-bike充电中。", "high"),
    ],
)
def test_ebike_charging(classify, text, severity):
    t = classify(text)
    assert codes(t) == {EB}
    assert t.severity == severity


def test_only_stairwell_at_night_is_critical(classify):
    assert classify("这幢楼只有一个楼梯，楼梯间电瓶车在充电。", hour=23).severity == "critical"
    assert classify("这幢楼只有一个楼梯，楼梯间电瓶车在充电。", hour=15).severity == "high"
    assert classify("深夜，唯一的楼梯间停了两辆电驴在充电。").severity == "critical"


def test_legal_charging_and_requests_give_nothing(classify):
    assert classify("电动车都在小区充电棚充电。").findings == ()
    assert classify("居民希望增设充电桩，电瓶车充电太难了。").findings == ()


# ---- blocked exits ---------------------------------------------------------------------------
def test_blocked_exit_severities(classify):
    assert classify("楼梯间堆满纸箱和旧家具。").severity == "medium"
    assert classify("楼梯间堆满纸箱，这栋楼只有一个楼梯。").severity == "high"
    assert classify("网吧安全出口被铁链锁住，店内正在营业。").severity == "critical"
    assert codes(classify("消防车道被私家车占用。")) == {BX}
    assert codes(classify("防火门被砖头顶住常开。")) == {BX}


def test_charging_ebike_alone_is_not_a_blocked_exit(classify):
    assert codes(classify("楼道里一辆电动车在充电，把楼道堵住了。")) == {EB}
    both = classify("楼道里一辆电动车在充电，旁边还堆着很多杂物。")
    assert codes(both) == {EB, BX}


def test_blocked_in_another_sense_gives_nothing(classify):
    assert classify("我家车位被别人的车占了。").findings == ()
    assert classify("高架匝道出口车祸，堵了快1小时。").findings == ()


# ---- wiring ----------------------------------------------------------------------------------
def test_illegal_wiring(classify):
    assert codes(classify("后厨电线私拉乱接，多个插线板串接使用。")) == {WR}
    assert codes(classify("墙上电线老化，有裸露的铜线。")) == {WR}


def test_cable_only_for_an_ebike_is_not_wiring(classify):
    assert codes(classify("楼道电瓶车充电，插线板从101室拉出来。")) == {EB}


def test_electric_car_from_a_flat_is_wiring(classify):
    t = classify("业主从2楼家里拉了根电线给楼下的新能源汽车充电。")
    assert codes(t) == {WR}


# ---- equipment -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "一楼灭火器已过期。",
        "消火栓打开没水。",
        "美容店内没有灭火器。",
        "应急照明灯不亮。",
        "烟感被拆掉了。",
    ],
)
def test_equipment_failure(classify, text):
    assert codes(classify(text)) == {EQ}


def test_equipment_negations(classify):
    assert classify("灭火器压力正常，均在有效期内，应急灯完好。").findings == ()
    assert classify("未发现灭火器过期。").findings == ()
    assert classify("楼道灯不亮（普通照明灯，不是应急灯）。").findings == ()


# ---- fraud -----------------------------------------------------------------------------------
def test_fraud_in_progress_is_critical(classify):
    t = classify("王阿姨正在和自称京东客服的人通话，对方让她开启屏幕共享，说要注销校园贷。")
    (f,) = t.findings
    assert (f.code, f.severity, f.in_progress) == (FR, "critical", True)
    assert f.fraud_type == "虚假征信"


def test_fraud_with_loss_is_high(classify):
    (f,) = classify("居民李某做刷单兼职，垫付了2.3万元后对方拉黑。").findings
    assert (f.severity, f.fraud_type, f.in_progress) == ("high", "刷单返利", False)


def test_fraud_attempt_without_loss_is_medium(classify):
    t = classify("张大伯接到陌生电话，对方自称公安局民警，要求转到安全账户，他挂了电话，没有转账。")
    assert t.severity == "medium"
    assert t.findings[0].fraud_type == "冒充公检法及政府机关"


def test_publicity_is_not_fraud_unless_something_was_found(classify):
    assert (
        classify("开展反诈宣传，发放资料200份，提醒居民警惕刷单返利、冒充客服等诈骗。").findings
        == ()
    )
    t = classify("反诈宣传中，有位阿婆说她儿子刚被人骗了，已经转了8000块。")
    assert codes(t) == {FR}


# ---- traps -----------------------------------------------------------------------------------
def test_nothing_found(classify):
    text = "巡查12幢，未发现电瓶车进楼入户充电，楼道畅通，无杂物堆放，消防设施正常。"
    assert classify(text).findings == ()


def test_fixed_on_the_spot_is_low(classify):
    assert classify("楼道电瓶车充电，已当场劝导推出。").severity == "low"
    assert classify("发现楼道堆放杂物。经劝导，已清理完毕。").severity == "low"


def test_fixed_earlier_gives_nothing_but_recurrence_counts(classify):
    assert classify("上周发现的楼道飞线充电问题，今天复查已整改到位。").findings == ()
    assert classify("上次反映的楼道杂物，复查时又发现楼道堆满纸箱。").findings != ()


def test_an_order_is_not_a_fix(classify):
    assert classify("灭火器过期，已通知物业更换。").severity == "medium"


def test_one_fix_does_not_cover_another_hazard(classify):
    t = classify("楼道电瓶车充电已当场劝离，另发现一楼灭火器过期，已通知物业更换。")
    assert {f.code: f.severity for f in t.findings} == {EB: "low", EQ: "medium"}


def test_drill_gives_nothing(classify):
    assert classify("社区开展消防演练，模拟楼道电瓶车起火。").findings == ()


def test_traditional_fullwidth_and_english(classify):
    text = "３號樓樓道內電瓶車充電，ＥＢＩＫＥ。"
    t = classify(text)
    assert codes(t) == {EB}
    for e in t.findings[0].evidence:
        assert text[e.start : e.end] == e.phrase  # offsets refer to the original text


def test_dialect_and_typos(classify):
    assert codes(classify("阿拉楼梯口头有人电平车冲电。")) == {EB}
    assert codes(classify("房间插座私拉乱解。")) == {WR}


def test_hints_are_not_truth(classify):
    t = classify(
        "今天去回访独居老人，家里用电正常。", category_hint="私拉乱接", place_type="rental_housing"
    )
    assert t.findings == ()


def test_missing_equipment_survives_the_early_exit(classify):
    # "没有" before equipment adds the fault group, so the quick check before segmentation
    # must count it as possible.
    assert codes(classify("出租房一楼没有灭火器。")) == {EQ}


def test_evidence_of_several_segments_is_in_text_order(classify):
    text = "楼道堆满纸箱。另外后门安全出口被铁链锁住。"
    (f,) = classify(text).findings
    starts = [e.start for e in f.evidence]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(text[e.start : e.end] == e.phrase for e in f.evidence)


def test_a_clause_break_word_splits_negation(classify):
    # "但" ends the clause: the "无" before it must not negate the hazard after it.
    assert codes(classify("楼道无杂物，但安全出口被铁链锁住。")) == {BX}


def test_to_dict_shape():
    f = Finding(FR, "high", (Evidence("被骗", 0, 2),), "刷单返利", False)
    d = Triage((f,), "high").to_dict()
    assert d == {
        "findings": [
            {
                "code": FR,
                "severity": "high",
                "evidence": [{"phrase": "被骗", "start": 0, "end": 2}],
                "fraud_type": "刷单返利",
                "in_progress": False,
            }
        ],
        "severity": "high",
    }
    assert "fraud_type" not in Finding(EB, "low", ()).to_dict()
