"""Fourth round of families (from the blind5 misses and the simulated-set misses of issue 3).

Fraud said by a scam's own words, a quoted identity, money sent with its verb, "no money yet"
said many ways, on the call or on the way to pay; verified callers and refunds; slogans of a
forwarded warning; rhetorical answers to a checklist question; questions about the rules;
hazards said by their consequence; pinyin; fused or homophone words; emptied buildings.

Each family is tested on wordings of its own (none taken from a data set), with a near miss
that must stay quiet, so a pass says the rule generalises.
"""

from __future__ import annotations

import pytest

from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes


def _fraud(t) -> str | None:
    assert codes(t) == {FR}
    return t.severity


# ---- a concrete attempt with no loss is medium ----------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "李大妈接到自称警察的电话说她涉嫌洗钱，要她配合调查，社区已劝住，没有转钱",
        "小陈收到短信说他征信有问题，要注销校园贷账户，他还没操作",
        "网上认识的“女朋友”一直叫其去一个平台买外汇，说有内幕，还没投钱",
        "有人打电话给我爸说能代办大额信用卡，要先交八百手续费，他没交",
        "短信说社保卡不然会失效，点进去要填银行卡，我没填",
        "老周说有个“派出所民警”加他微信，讲他涉案，要他下载个APP，他没下",
    ],
)
def test_attempts_without_loss_are_medium(classify, text):
    assert _fraud(classify(text)) == "medium"


def test_a_quoted_role_without_a_scam_is_no_fraud(classify):
    assert classify("社区请“派出所民警”来讲了一次课，居民反响好").findings == ()


# ---- money sent with its verb; the scammer going silent --------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "我妹做刷单任务，垫了三千多，现在客服不理人了",
        "他在游戏交易平台上充了800说要解冻账号，平台不回消息了",
        "她按“医保局”电话说的把5万转到了对方账户",
        "阿姨跟着理财群的老师打进去六万，想取取不出来",
    ],
)
def test_money_sent_is_a_loss(classify, text):
    assert _fraud(classify(text)) == "high"


def test_blocking_the_scammer_is_not_a_loss(classify):
    t = classify("有人冒充我同学借钱，我打给同学本人问了说没这回事，已经拉黑")
    assert _fraud(t) == "medium"


# ---- on the call or on the way to pay --------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "王阿婆正在农商行柜台要给“检察院”汇8万，电话一直没挂",
        "大爷拿着电话在念验证码给对方，说是“客服”，电话还通着",
        "我姑姑在银行门口排队取号，对方说要把钱转到安全账户",
        "他现在在手机上往一个投资平台充值，已经充了两笔，把门反锁了",
        "我跟她说是骗子她不信，对方说是公安局的，要她去转钱",
        "My dad is on a video call right now, they asked him to share screen",
    ],
)
def test_money_moving_now_is_critical(classify, text):
    assert _fraud(classify(text)) == "critical"


def test_a_past_remote_control_with_cards_frozen_is_high(classify):
    t = classify("前天他手机被“客服”远程操作转走了一万，第二天已经去银行冻结了")
    assert _fraud(t) == "high"


def test_remote_control_with_first_response_under_way_stays_critical(classify):
    t = classify("手机被远程控制了，已拔了卡，正在打电话给银行冻结")
    assert _fraud(t) == "critical"


# ---- verified, refunded, forwarded slogans ---------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "网上买的鞋没发货，商家说断码，钱已经退回来了",
        "接到中通电话说包裹破损要理赔，打官方热线核实确有此事",
        "转发：刷单就是诈骗！陌生来电要警惕！请务必转给家里老人",
        "群里有人发提醒：冒充客服的骗子又出新花样了",
        "反诈讲座上民警讲了屏幕共享和安全账户，现场没有人反映被骗",
    ],
)
def test_no_fraud_when_verified_refunded_or_a_slogan(classify, text):
    assert classify(text).findings == ()


# ---- checklist answers and questions about the rules ----------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "楼道充电？没有的。",
        "私拉乱接？也没有啊",
        "飞线？我们这里哪有人敢",
        "本轮排查：楼道充电零起，私拉电线零起",
        "前室防火门：常闭，闭门器好的",
        "问房东后门是不是锁着，房东打开给我看了",
        "车停在自家院子里充电会不会被罚款？",
        "小区冲电桩能不能多装几个？在楼下充会不会罚款",
        "楼道里放婴儿车算不算违规？",
    ],
)
def test_answers_and_rule_questions_give_no_finding(classify, text):
    assert classify(text).findings == ()


def test_a_yes_answer_after_the_question_still_finds(classify):
    assert codes(classify("楼道电动车充电？有，三楼一辆在充")) == {EB}


# ---- hazards said by their consequence or loosely --------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("灯箱的线从隔壁接了根线过来，线皮都烤化了", WR),
        ("洗衣店的电源线泡在水里，接头没包", WR),
        ("房东自己拉了一排线给每个房间供电", WR),
        ("插座上插了个转换头，转换头上又插了两个插排", WR),
        ("仓库里一根 extension cord 串了好几个，插满了", WR),
        ("车库的临时线拖到叉车充电位，被车压扁了", WR),
        ("消防栓试了一下，一滴水都没有", EQ),
        ("应急灯拔电测试，八个里只有三个亮", EQ),
        ("餐馆只有一个门，门口堆满了啤酒箱", BX),
        ("东区消防车通到被货车占了", BX),
        ("小区里车停满了，消防车根本开不进来", BX),
        ("楼梯口堆着一个旧衣柜，旁边一辆电动车在充", BX),
        ("窗口伸出一根线，一头接在楼下的电动车上", EB),
        ("五楼出租房，屋里充着两块电瓶", EB),
        ("lou dao li you dian dong che zai chong dian", EB),
        ("xiao fang tong dao bei du le", BX),
    ],
)
def test_hazards_said_by_consequence_loosely_or_in_pinyin(classify, text, code):
    assert code in codes(classify(text))


def test_a_parking_space_beside_a_fire_lane_is_not_the_lane(classify):
    assert classify("消防通道旁边的临时停车位被占了，我停不进去").findings == ()


def test_a_fire_lane_turned_into_parking_still_counts(classify):
    assert codes(classify("消防通道被划成停车位，消防车无法进入")) == {BX}


# ---- severity modifiers -----------------------------------------------------------------------
def test_fixed_on_the_spot_by_removing_the_cable_is_low(classify):
    t = classify("后厨有根乱接的花线，检查时老板当场拆了换成了正规插座")
    assert codes(t) == {WR}
    assert t.severity == "low"


def test_night_only_stair_in_an_emptied_building_is_high(classify):
    t = classify("夜里，待拆迁的楼只有一个楼梯，住户都搬空了，楼梯口一辆电瓶车在充电")
    assert t.severity == "high"


def test_night_only_stair_with_people_inside_stays_critical(classify):
    t = classify("夜里，这栋楼只有一个楼梯，楼梯口一辆电瓶车在充电，住户都在睡觉")
    assert t.severity == "critical"
