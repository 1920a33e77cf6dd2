"""Synonym families and scope rules beyond the first word lists, each on sentences of its own.

Every family is tested with wordings that appear nowhere in the data sets, so a pass says the
family generalises rather than that one sentence was memorised.
"""

from __future__ import annotations

import pytest

from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes


# ---- e-bikes and their batteries under other names ----------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "2单元楼梯间有辆踏板车插着充电器。",
        "电动踏板车停在走道上充电，充电器线拖在地上。",
        "租客把锂电拎进房间充了一晚上。",
        "出租屋里好几块铅酸电瓶排着充。",
        "宿舍里有人给外卖车的电池充电。",
        "5楼消防前室一辆电动两轮车在充电。",
        "一楼门洞里停着电三轮在充电。",
        "店员直接把电动车推进店里充电。",
        "三楼楼梯平台上一辆助力车在充电。",
        "B座 lobby 里有人给 ebike charging。",
        "仓库里好几块改装过的锂电同时在充。",
    ],
)
def test_ebike_charging_under_other_names_is_high(classify, text):
    t = classify(text)
    assert codes(t) == {EB}
    assert t.severity == "high"


def test_only_stair_at_night_named_by_a_landing_is_critical(classify):
    text = "凌晨两点，这栋老楼只有一部楼梯，楼梯拐角有电动车在充电，楼上住户都在睡觉。"
    assert classify(text).severity == "critical"


def test_batteries_charging_in_a_lobby_do_not_block_it(classify):
    assert codes(classify("9楼合用前室里放着三块电池在充电。")) == {EB}


# ---- exits -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "疏散楼梯里堆满了装修垃圾。",
        "生命通道被堵死了，消防车进不来。",
        "消防前室堆着几个旧柜子。",
        "单元门洞里堆满了纸板箱，进出要侧身。",
    ],
)
def test_exits_under_other_names(classify, text):
    assert codes(classify(text)) == {BX}


@pytest.mark.parametrize(
    "text",
    [
        "幼儿园午休时二楼安全出口被锁住，孩子们都在睡觉。",
        "养老院疏散门用铁链锁着，老人都在里面。",
        "KTV营业中，后门逃生通道被上锁。",
    ],
)
def test_locked_exit_with_people_inside_is_critical(classify, text):
    t = classify(text)
    assert codes(t) == {BX}
    assert t.severity == "critical"


def test_locked_exit_of_an_empty_building_is_medium(classify):
    assert classify("仓库疏散门反锁，周末没人上班。").severity == "medium"


def test_a_door_that_will_not_open_behind_clutter_is_not_a_lock(classify):
    t = classify("宿舍楼后门被旧床垫堵死，门推不开，楼里住了二十几个工人，另一侧楼梯能走。")
    assert t.severity == "medium"


def test_a_blocked_drain_is_not_a_blocked_exit(classify):
    assert classify("单元门口的排水沟被树叶堵住了。").findings == ()


# ---- wiring ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "小区绿化带里有人私自拉线接了一串彩灯。",
        "烧烤摊从电线杆上私自接电。",
        "楼顶种菜的住户拉线接了抽水泵。",
        "房间里插线板上又插了一个插线板，插满了电器。",
        "宿舍里排插接排插，接了电饭锅和电暖器。",
        "门口私自搭线给灯箱供电。",
        "路边摊从路灯上偷电照明。",
        "工棚里电线乱挂，线头裸露在外。",
    ],
)
def test_illegal_wiring_in_other_words(classify, text):
    t = classify(text)
    assert codes(t) == {WR}
    assert t.severity == "medium"


def test_a_cable_pulled_to_charge_an_ebike_stays_ebike_only(classify):
    assert codes(classify("住户私自拉线到楼下给电瓶车充电。")) == {EB}


# ---- fire equipment --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "一楼大堂灭火器压力表指针在红区。",
        "两具灭火器压力都为零。",
        "消火栓箱门锈死打不开。",
        "烟感被用胶带封起来了。",
        "车库喷淋头在滴水。",
        "应急灯坏脱了，弗亮。",
        "消防泵一直处于手动状态。",
        "末端试水阀打开没水。",
        "消防水带霉烂了。",
    ],
)
def test_equipment_failure_in_other_words(classify, text):
    assert codes(classify(text)) == {EQ}


# ---- fraud -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "阿姨收到短信说社保卡异常要冻结，叫她点链接，她没点。",
        "大伯在网上认识个女朋友，劝他去平台投资，还没投。",
    ],
)
def test_fraud_attempts_without_loss_are_medium(classify, text):
    t = classify(text)
    assert codes(t) == {FR}
    assert t.severity == "medium"


def test_victim_still_guided_on_the_phone_is_critical(classify):
    t = classify("老人执意要去银行给“检察院”转钱，对方还在电话里一步步指导。")
    assert t.severity == "critical"


def test_money_already_sent_is_high(classify):
    t = classify("小伙已经按照对方要求付款三千元，对方自称客服。")
    assert t.severity == "high"


def test_a_broken_phone_is_not_a_remote_controlled_one(classify):
    assert classify("老人手机黑屏了，是手机坏了，拿去修了。").findings == ()


@pytest.mark.parametrize(
    "text",
    [
        "开展反诈进社区活动，民警讲解了冒充公检法、刷单返利等高发骗局，遇到可疑电话先挂断。",
        "反诈讲座上，民警列举了杀猪盘、网络游戏交易等诈骗类型，凡是让你转账的都是诈骗。",
    ],
)
def test_publicity_listing_fraud_types_gives_nothing(classify, text):
    assert classify(text).findings == ()


# ---- negation said after the hazard ----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "楼梯间堆放杂物的情况，这次复查没有。",
        "电瓶车进楼入户充电的现象，今天巡查没有发现。",
        "飞线充电现象未发现，楼道整洁。",
        "私拉电线的情况本次没有。",
        "楼道里堆东西的现象，已经好多了，本次没发现。",
        "电瓶车都停在车棚充电桩充电，楼道里没有。",
        "今天巡查，楼道堆物、飞线充电、私拉电线等情况都没有。",
        "入户走访五户，均未发现电动车进屋充电，发放安全告知书五份。",
    ],
)
def test_negation_after_the_hazard(classify, text):
    assert classify(text).findings == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("经检查，3楼楼道有电动车在充电，未发现其他问题。", EB),
        ("楼道电瓶车充电的情况又出现了。", EB),
        ("一个住户说他征信有问题要修复，对方让他转账，他没有转，来问是不是真的。", FR),
    ],
)
def test_a_later_no_does_not_deny_a_finding(classify, text, code):
    assert codes(classify(text)) == {code}
