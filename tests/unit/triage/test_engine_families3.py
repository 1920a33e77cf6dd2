"""Third round of families (from the blind4 misses): speech typed with spaces, voice-to-text
homophones, hurried abbreviations, checklists asked and answered, notices read out, fraud said
by its loss or its symptoms, promises that are not fixes, and counted people or vehicles.

Each family is tested on wordings of its own (none taken from a data set), with a near miss
that must stay quiet, so a pass says the rule generalises.
"""

from __future__ import annotations

import pytest

from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes


# ---- speech typed with spaces instead of punctuation ---------------------------------------
def test_a_space_between_chinese_words_ends_a_clause(classify):
    t = classify("快点来 我妈在邮储银行 那个人在电话里叫她别挂 钱转到安全帐户去")
    assert codes(t) == {FR}
    assert t.severity == "critical"


def test_a_spaced_negation_stays_in_its_own_clause(classify):
    t = classify("屋里那块电瓶天天在卧室里充 车库那个新能源车也拉根线在充")
    assert codes(t) == {EB, WR}
    assert t.severity == "high"


@pytest.mark.parametrize(
    "text", ["5幢楼道电瓶车充电 无;灭火器 有效", "no e-bike charging, exits clear"]
)
def test_an_item_answered_after_a_space_is_a_negation(classify, text):
    assert classify(text).findings == ()


# ---- voice-to-text homophones ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("我们单元楼提口有部店瓶车在冲电", EB),
        ("走廊上的指示等坏了不亮", EQ),
        ("那个灭活器的针到红的那边了", EQ),
        ("疏散通倒里堆了一堆纸箱过不去", BX),
    ],
)
def test_homophones_read_as_the_word_meant(classify, text, code):
    assert codes(classify(text)) == {code}


def test_charge_verb_fused_with_the_bike(classify):
    t = classify("隔壁天天在过道里冲电瓶车")
    assert codes(t) == {EB}
    assert t.severity == "high"


def test_chong_in_other_words_is_not_charging(classify):
    assert classify("两户人家在楼道里起了冲突,吵得很凶").findings == ()


# ---- hurried abbreviations ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("便利店 灭器×0", {EQ}),
        ("面馆 插排串4 后门安出堆杂物", {WR, BX}),
        ("8# 消通被货车占", {BX}),
        ("11# 楼充1 飞充1", {EB}),
        ("出租房 3F 走廊电车充 + 房间取暖器私接", {EB, WR}),
    ],
)
def test_abbreviated_notes(classify, text, want):
    assert codes(classify(text)) == want


def test_abbreviations_negated_and_fixed(classify):
    assert classify("6#7# 无楼充 无飞充 消通畅").findings == ()
    t = classify("9# 楼充1 现场全改")
    assert codes(t) == {EB}
    assert t.severity == "low"


# ---- checklists asked and answered ------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "飞线充电?没有。堆放杂物?无。灭火器?正常。",
        "问:走廊里有没有电动车充电?答:没看到。问:安全出口?答:通的。",
    ],
)
def test_questions_answered_no(classify, text):
    assert classify(text).findings == ()


def test_a_rhetorical_clear_runs_into_its_answer(classify):
    t = classify("安全通道哪里通畅了?全是快递三轮车,根本走不过去。")
    assert codes(t) == {BX}


# ---- notices read out ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "在业主群看到物业发的通知,说楼道电动车充电要罚款,请大家去车棚充。",
        "看到派出所发的提醒,最近冒充快递客服退款骗钱的多。",
    ],
)
def test_a_notice_read_out_is_no_finding(classify, text):
    assert classify(text).findings == ()


def test_a_notice_with_the_hazard_still_there_is_a_finding(classify):
    t = classify("物业贴了通知,楼道里还是有电瓶车在充电。")
    assert codes(t) == {EB}


# ---- fraud said by its loss or its symptoms -------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "居民钱某做网上兼职刷单被骗2.3w",
        "老人在理财群里投了三万,第二天群解散了",
        "对方收了5000保证金以后现已无法联系",
        "阿拉爷叔拨人家骗去两万块",
    ],
)
def test_a_loss_said_loosely_is_high(classify, text):
    t = classify(text)
    assert codes(t) == {FR}
    assert t.severity == "high"


@pytest.mark.parametrize(
    "text",
    [
        "我奶奶接到电话说我表弟闯祸要赔钱,她打给我核实了,没给",
        "收到短信说社保卡被冻解了 这是不是诈骗啊",
    ],
)
def test_a_concrete_attempt_is_medium(classify, text):
    t = classify(text)
    assert codes(t) == {FR}
    assert t.severity == "medium"


@pytest.mark.parametrize(
    "text",
    [
        "他手机屏幕黑掉了,手机自己在动,刚才装了个退款软件",
        "居民正在與自稱「檢察官」的人通話,社區已勸阻中,仍未掛斷",
        "阿姨在跟一个自称警察的人视频,手机上还开着会议",
    ],
)
def test_in_progress_symptoms_are_critical(classify, text):
    t = classify(text)
    assert codes(t) == {FR}
    assert t.severity == "critical"


@pytest.mark.parametrize(
    "text",
    [
        "怀疑冒充儿子的电话是诈骗,视频核实后确实是儿子本人换了新号。",
        "回访上季度被刷单诈骗的孙女士,情绪稳定,无新情况。",
        "来电人怀疑冒充民警的电话是诈骗,经核实系派出所正常走访。",
    ],
)
def test_verified_or_closed_cases_are_no_finding(classify, text):
    assert classify(text).findings == ()


# ---- fire equipment -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "仓库灭火器底部锈穿了",
        "消防箱里的水带都没了",
        "店里三个灭火器不是没压力就是过期,没一个能用",
        "烟感被人用胶带封住了",
    ],
)
def test_equipment_faults_said_loosely(classify, text):
    assert codes(classify(text)) == {EQ}


def test_equipment_still_not_back_is_a_finding(classify):
    t = classify("厨房的灭火器找不到,说上周送去充装,到现在还没送回来。")
    assert codes(t) == {EQ}


def test_equipment_replaced_earlier_is_no_finding(classify):
    assert classify("前天撞坏的消火栓,今天看已经换了新的。").findings == ()


# ---- fixes: promises and fixes under way are not fixes ------------------------------------
@pytest.mark.parametrize(
    "text",
    ["楼道电动车充电,车主说马上推走", "楼道电动车充电,社区正在劝导"],
)
def test_a_promise_is_not_a_fix(classify, text):
    t = classify(text)
    assert codes(t) == {EB}
    assert t.severity == "high"


# ---- exits, parking spaces, counted people and vehicles -----------------------------------
def test_a_private_parking_space_is_not_an_exit(classify):
    assert classify("小区南门口我的车位被人占了").findings == ()


def test_a_parked_bike_that_is_not_in_the_way(classify):
    assert classify("走廊里停了一辆电动车,没插电,走路没影响").findings == ()


def test_a_bare_door_after_an_exit_and_a_head_count(classify):
    t = classify("酒吧后面的安全出口,门被铁链锁了,里面约60人在喝酒")
    assert codes(t) == {BX}
    assert t.severity == "critical"


def test_a_gate_locked_at_night_is_not_an_exit(classify):
    assert classify("小区大门晚上11点上锁,楼道干净").findings == ()


def test_a_counted_vehicle_charging_in_a_stairwell(classify):
    t = classify("楼梯转角有一辆快递小哥的车在充电")
    assert codes(t) == {EB}
    assert t.severity == "high"


def test_a_phone_charging_in_a_stairwell_is_nothing(classify):
    assert classify("楼梯口有两个人在给手机充电").findings == ()


def test_squeezing_past_stacked_goods(classify):
    t = classify("超市唯一的出口码了几十箱饮料,人挤不过去")
    assert codes(t) == {BX}
    assert t.severity == "high"
