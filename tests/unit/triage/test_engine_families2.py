"""Second round of families: checklists, equipment said missing after the noun, dialect faults,
fraud still on the call, publicity forwards, occupied or empty locked exits.

Each family is tested on wordings of its own (none taken from a data set), with a near miss
that must stay quiet, so a pass says the rule generalises.
"""

from __future__ import annotations

import pytest

from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes


# ---- patrol logs and checklists ------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "夜查台账\n飞线充电:0处\n楼道堆物:0\n灭火器失效:无\n结论:本次未发现问题",
        "检查表:电动车进楼——无;私拉电线——无;消防通道——畅通",
        "本周专项行动重点检查楼道充电和私拉电线。检查情况:各楼道通畅,无电瓶车,无杂物。",
        "排查是否存在电动车上楼充电、飞线充电等情况,结果均正常。",
        "楼道里电瓶车一辆都没有,杂物也没有。",
    ],
)
def test_checklists_with_nothing_found_give_no_finding(classify, text):
    assert classify(text).findings == ()


def test_a_log_that_names_one_cable_still_finds_it(classify):
    text = (
        "巡查记录:各楼道干净,灭火器在有效期内。仅5号楼有户人家从阳台垂下电线给楼下电动车充电,"
        "已告知整改,后天复查。"
    )
    t = classify(text)
    assert codes(t) == {EB}
    assert t.severity == "medium"


def test_a_denied_denial_is_a_finding(classify):
    t = classify("电瓶车排查:并非没有,2单元楼道里就有一辆插着电。")
    assert codes(t) == {EB}
    assert t.severity == "high"


# ---- fire equipment ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "这家小超市连一只灭火器都没有",
        "仓库里烟感一个也没有",
        "楼道的应急灯被装修工人用涂料糊住了",
        "疏散指示牌被油漆盖掉了",
    ],
)
def test_equipment_missing_after_the_noun_or_painted_over(classify, text):
    t = classify(text)
    assert codes(t) == {EQ}
    assert t.severity == "medium"


def test_equipment_none_expired_is_no_finding(classify):
    assert classify("灭火器都没有过期,压力正常。").findings == ()


# ---- wiring --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "老房子里的电线皮都破了,一开灯就跳火",
        "厨房那根电线老掉牙了,插座边上还冒火星",
        "早餐店从楼上垂下一根电线给门口的冰柜供电",
        "小卖部电线从三楼挂下来接到门口饮料柜",
    ],
)
def test_dialect_wiring_faults_and_cables_hung_to_a_fridge(classify, text):
    assert codes(classify(text)) == {WR}


def test_a_car_and_a_bike_fed_from_one_flat(classify):
    text = "车主从自家窗口拉电线给新能源汽车充电,插线板上还接出一根线给电动车充"
    assert codes(classify(text)) == {EB, WR}


# ---- fraud ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "社区接报:独居阿婆此刻正跟自称检察院的人视频,对方让她把存款转到安全账户,网格员已在现场劝说",
        "一位大爷要给“投资导师”汇款,现在还在和对方打电话,网格员劝了几句",
    ],
)
def test_victim_still_on_the_call_is_critical(classify, text):
    t = classify(text)
    assert codes(t) == {FR}
    assert t.severity == "critical"


def test_call_hung_up_in_time_is_an_attempt(classify):
    t = classify("阿姨正在跟自称公安的人通电话,网格员劝她挂断电话,未转账")
    assert t.severity == "medium"


@pytest.mark.parametrize(
    "text",
    ["阿拉阿爸拨骗子骗去三万块,讲是医保卡出问题", "刚刚被骗汇款八千元到对方账户,要求紧急止付"],
)
def test_money_just_lost_is_high(classify, text):
    t = classify(text)
    assert codes(t) == {FR}
    assert t.severity == "high"


def test_stolen_account_asking_to_borrow_is_an_attempt(classify):
    t = classify("我妈QQ被盗号了,有人用她的号找亲戚借钱,亲戚还没打钱")
    assert codes(t) == {FR}
    assert t.severity == "medium"


@pytest.mark.parametrize(
    "text",
    [
        "提醒大家:近期有冒充客服以退款为名的骗局,请大家不要点陌生链接。",
        "居民怀疑收到诈骗短信,经核实系正常的银行通知,已解释清楚。",
    ],
)
def test_publicity_and_verified_worries_give_no_finding(classify, text):
    assert classify(text).findings == ()


# ---- exits ---------------------------------------------------------------------------------
def test_locked_stair_door_with_office_workers_is_critical(classify):
    text = "公司写字楼的疏散楼梯门被锁住,办公室里全是在上班的职员"
    assert classify(text).severity == "critical"


def test_locked_exit_with_nobody_inside_stays_medium(classify):
    t = classify("仓库后门被铁链锁着,员工都下班了,仓库里面没人")
    assert codes(t) == {BX}
    assert t.severity == "medium"


def test_one_of_two_exits_locked_named_by_pointing(classify):
    assert codes(classify("楼里有两个出口,东边那个被反锁了")) == {BX}


def test_only_corridor_at_night_everyone_asleep_in_dialect(classify):
    text = "夜里两点,这栋老楼就一个楼道,二楼楼道有电瓶车插着电,一幢楼的人都在睏觉"
    assert classify(text).severity == "critical"


@pytest.mark.parametrize(
    "text",
    ["配电房上了锁,楼道里有居民晾衣服。", "小区大门晚上10点上锁,楼道灯不亮。"],
)
def test_a_lock_elsewhere_is_not_a_locked_exit(classify, text):
    assert BX not in codes(classify(text))


def test_a_clock_time_is_not_a_zero_count(classify):
    t = classify("楼道有电动车在充电 时间8:05")
    assert codes(t) == {EB}
    assert t.severity == "high"
