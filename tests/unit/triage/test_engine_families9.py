"""Ninth round: the structural causes behind blind9's misses, probed with texts of my own.

blind9 was scored once by the round-8 engine (0.911 / 0.911 / 0.819 / 0.859). Its misses were
grouped by cause, not by phrase: a notice the reporter posted read as a notice read out; a
checklist closed by "全部正常" after space-separated items; equipment said by a part, an
abbreviation or a function that does not happen ("没亮过"); a drill or training given as the
reason equipment is missing; fixes said as "顺手拿走" or "插回去"; the only exit said with its
kind of door, or a second stair said beside it; people counted by a noun; sparks with people
asleep; other senses (a chat group named after the stairwell, remote medicine, a door panel's
black screen, a network cable, a stairwell light as the power source, an appliance at the end
of a cable); a caller verified as genuine; a scammer still pressing for more; a contact gone
after the money; e-bikes named by brand or emoji. Each cause was fixed in engine logic or as
a family (comments ``round9:`` in rules.yaml; the list sweep in ``TriageEngine.sentences``).
No text here is taken from a data set.

First-time-right counts (``FIRST_RUN``): the 60 texts of ``ALL`` were written before any fix
and run once against the round-8 engine (the working tree at the start of round 9): 30 of 60
right. The 25 texts of ``FRESH`` were written after the fixes, in other words, and run once:
25 of 25 right. ``GUARDS`` were added after re-scoring the other sets (look-alikes the new
families first caught: a phone that does not connect, a brick building, a training room).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes

CASES = tuple[str, set[str], str | None]

# Right first time, per cause, with the round-8 engine (before the fixes); the verified-caller
# texts were already handled by round 7's words ("核实过了", "官方电话核实").
FIRST_RUN = {
    "NOTICE_POSTED": (2, 5),
    "SWEEP": (2, 4),
    "EQUIPMENT": (3, 6),
    "BORROWED": (1, 2),
    "FIXES": (2, 3),
    "ONLY_EXIT": (1, 4),
    "LOCKED": (1, 2),
    "SPARKS": (1, 3),
    "SENSES": (3, 7),
    "VERIFIED": (5, 5),
    "PRESSING": (2, 3),
    "VANISHED": (1, 2),
    "NEAR_MISS": (1, 3),
    "BIKE_NAMES": (2, 4),
    "LOADS": (2, 3),
    "INSTALL": (1, 4),
}
FRESH_FIRST_RUN = (25, 25)


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- A. A notice the reporter posted is a response (an order), not a notice read out.
NOTICE_POSTED: list[CASES] = [
    ("消防通道上停了两辆面包车，已张贴温馨提示", {BX}, "medium"),
    ("3幢楼道电瓶车在充电，现场已贴整改告知书", {EB}, "high"),
    ("楼梯间堆满纸箱，已发放隐患告知书，限期三天清理", {BX}, "medium"),
    ("看到物业贴了温馨提示，说楼道不要停放电动车", set(), None),
    ("物业在电梯口贴了告知书，提醒不要电动车进楼充电", set(), None),
]

# ---- B. A checklist of space-separated items closed by one "all fine".
SWEEP: list[CASES] = [
    ("巡查项目 楼道堆物 电动车充电 飞线 灭火器 全部正常", set(), None),
    ("消防通道 楼道充电 私拉电线 均无异常", set(), None),
    ("☑楼道 ☑充电 ☑灭火器 都没问题", set(), None),
    ("2幢楼道堆满杂物，其余全部正常", {BX}, "medium"),
]

# ---- C. Equipment said by an abbreviation or a part, or by a function that does not happen.
EQUIPMENT: list[CASES] = [
    ("仓库边上 市政栓 没水", {EQ}, "medium"),
    ("走廊安全出口指示灯从来没亮过", {EQ}, "medium"),
    ("三楼烟感按了测试键也没响", {EQ}, "medium"),
    ("车间灭火器压力表指针在红区，检验标签也没有", {EQ}, "medium"),
    ("每个楼层的消防箱都空着", {EQ}, "medium"),
    ("应急灯测试正常，没有发现问题", set(), None),
]

# ---- D. A drill or training given as the reason equipment is gone is no publicity sentence.
BORROWED: list[CASES] = [
    ("食堂的两具灭火器被拿去演练用了，到现在还没放回来", {EQ}, "medium"),
    ("开展消防培训，讲解灭火器过期怎么识别", set(), None),
]

# ---- E. A fix by the reporter in passing, or a restore verb.
FIXES: list[CASES] = [
    ("楼道防火门被木楔子顶着，我随手拔掉了", {BX}, "low"),
    ("烟感被住户拆下来了，当场让他装回去", {EQ}, "low"),
    ("应急灯插头被拔，当场插回去了", {EQ}, "low"),
]

# ---- F. The only exit said with its kind of door; a second stair beside a blocked one.
ONLY_EXIT: list[CASES] = [
    ("棋牌室只有一个安全门，门口堆满啤酒箱", {BX}, "high"),
    ("托管班只有一个疏散门，门外过道堆满自行车", {BX}, "high"),
    ("出租楼北楼梯堆满杂物（南边还有一部楼梯能走）", {BX}, "medium"),
    ("城中村单楼梯 二楼转角堆满旧家具 过不去", {BX}, "high"),
]

# ---- G. People counted by a noun; an exit barred with a stick.
LOCKED: list[CASES] = [
    ("培训教室里坐着十几个阿姨，后面的安全出口被拖把别死了", {BX}, "critical"),
    ("写着紧急出口的那道门被插销插死了，店里有七八个客人", {BX}, "critical"),
]

# ---- H. Sparks or smoke from wiring with people asleep or inside.
SPARKS: list[CASES] = [
    ("半夜群租房的电线接头在打火花，屋里睡着五个工人", {WR}, "critical"),
    ("配电箱里的线冒火星，店里还有顾客在吃饭", {WR}, "critical"),
    ("空置仓库的电线接头打火花，里面没人", {WR}, "medium"),
]

# ---- I. Other senses: a chat group, remote medicine, a device's screen, a network cable,
# a stairwell light as the source of an e-bike's cable.
SENSES: list[CASES] = [
    ("充电棚已经启用，通知发在楼栋群里，大家扫码充电", set(), None),
    ("社区开通了远程问诊服务，老人在家就能视频看病", set(), None),
    ("电梯里的广告屏黑屏了，请物业报修", set(), None),
    ("小区门口的门禁显示屏黑屏了，输密码也没反应", set(), None),
    ("网线从窗外拉进来，挂得乱七八糟", set(), None),
    ("楼梯间的插座是从楼道灯的线上私接出来的，专门给电瓶车充电，车停在楼梯下面充着", {EB}, "high"),
    ("电线乱七八糟地缠在楼道的铁管上", {WR}, "medium"),
]

# ---- J. A caller or a request verified as genuine.
VERIFIED: list[CASES] = [
    ("有人自称是我表哥要借钱，我给表哥本人打电话核实过了，是真的", set(), None),
    ("街道收到“社保局”电话说要更新信息，我们打官方电话确认，确实是社保局在回访", set(), None),
    ("物业让业主把停车费转到新账户，我们跟物业经理当面确认过了，没问题", set(), None),
    ("冒充客服的人让我转钱，我打官方客服核实，是假的", {FR}, "medium"),
    ("网上认识的“投资导师”带她炒币，她以为是真的，已经转了三万", {FR}, "high"),
]

# ---- K. The scammer still pressing for more after a first payment.
PRESSING: list[CASES] = [
    ("我妈已经给对方转了两万，那个“客服”现在还在电话里让她再转一笔", {FR}, "critical"),
    ("我同事在做任务，已经充了三笔，对方还在微信上叫他再充一笔", {FR}, "critical"),
    ("上个月在网上被骗了八千，骗子号码还在给他发短信", {FR}, "high"),
]

# ---- L. The other side gone once the money was sent.
VANISHED: list[CASES] = [
    ("网上租房，房东让先交押金，我转了两千，之后就联系不上了", {FR}, "high"),
    ("游戏里的买家说帮我代练，我付了八百，转完他就把我删了", {FR}, "high"),
]

# ---- M. A near miss; scam goods (exam answers, a sure pass).
NEAR_MISS: list[CASES] = [
    ("有人在QQ上说能查别人开房记录，收费三百，我同事差点就信了", {FR}, "medium"),
    ("群里有人卖四级答案，先交两百定金", {FR}, "medium"),
    ("网上有人说代考驾照科目一包过，要先付一千", {FR}, "medium"),
]

# ---- N. An e-bike named by its brand or an emoji; a stair's landing said as 梯口.
BIKE_NAMES: list[CASES] = [
    ("5幢楼道里一台雅迪在充电", {EB}, "high"),
    ("楼梯口有辆爱玛插着电", {EB}, "high"),
    ("2单元 楼道 🛵🔌 充电中", {EB}, "high"),
    ("单梯出租楼 深夜 1F梯口 充电x2 住满人", {EB}, "critical"),
]

# ---- O. An appliance at the end of a cable is its load, not clutter in the way.
LOADS: list[CASES] = [
    ("走廊里私接了一个插座给饮水机用，线从隔壁屋拉过来", {WR}, "medium"),
    ("楼道里的冰箱插着一根从三楼拉下来的电线", {WR}, "medium"),
    ("楼道里堆着旧冰箱和纸箱，过不去", {BX}, "medium"),
]

# ---- P. Wiring installed properly; Q. a strip hung in mid-air.
INSTALL: list[CASES] = [
    ("集市的临时用电由电工专线接入，线路穿管敷设", set(), None),
    ("临时用电从路灯上私自接线", {WR}, "medium"),
    ("楼梯扶手上吊着一个悬空的插线板，正在用", {WR}, "medium"),
    ("走廊半空中挂着一个接线板，住户当场取下来了", {WR}, "low"),
]

ALL = (
    NOTICE_POSTED
    + SWEEP
    + EQUIPMENT
    + BORROWED
    + FIXES
    + ONLY_EXIT
    + LOCKED
    + SPARKS
    + SENSES
    + VERIFIED
    + PRESSING
    + VANISHED
    + NEAR_MISS
    + BIKE_NAMES
    + LOADS
    + INSTALL
)


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Written after the fixes, in other words than the cases above, and run once: see
# FRESH_FIRST_RUN for how many were right first time.
FRESH: list[CASES] = [
    ("楼梯口停了辆电动车在充电，已现场张贴隐患告知单", {EB}, "high"),
    ("消防车道上停了五辆车，已下发整改通知书", {BX}, "medium"),
    ("楼道 消防通道 灭火器 应急灯 均正常", set(), None),
    ("3幢楼道堆满纸箱 5幢 7幢 均正常", {BX}, "medium"),
    ("二楼的烟感探头测试时一直没反应", {EQ}, "medium"),
    ("车库灭火器没有铅封", {EQ}, "medium"),
    ("两个灭火器被借去消防比赛用了，一直没还", {EQ}, "medium"),
    ("安全出口前的纸箱我顺便搬开了", {BX}, "low"),
    ("烟感被拆下来放在桌上，让店主当场装回去了", {EQ}, "low"),
    ("小超市只有一扇后门，后门被货架堵住", {BX}, "high"),
    ("东边楼梯口堆满建材，另有一个出口能走", {BX}, "medium"),
    ("麻将馆里坐着八个老人，唯一的出口用木棍别住了", {BX}, "critical"),
    ("凌晨出租屋插座冒火星，里面住着一家四口", {WR}, "critical"),
    ("远程会议系统调试完成", set(), None),
    ("小区闸机显示屏黑屏了，扫码也没用", set(), None),
    ("物业说停车费改交到新账户，我们打物业电话核实，确实是物业在收", set(), None),
    ("对方说是我儿子换了号要借钱，我打给儿子核实，根本不是他", {FR}, "medium"),
    ("我爸已经往“导师”给的账户打了五万，对方还在电话里逼他再打十万", {FR}, "critical"),
    ("在二手平台买了个手机，付了一千二，卖家就把我拉黑了", {FR}, "high"),
    ("有人在群里说能代办驾照包过，要先交两千，我差点就信了", {FR}, "medium"),
    ("3单元楼梯下面一台台铃插着电", {EB}, "high"),
    ("4幢一楼楼道 🛵 ⚡ 在充", {EB}, "high"),
    ("走廊里私拉电线给一台冰柜供电", {WR}, "medium"),
    ("活动舞台用电由电工规范接入，线路走线槽", set(), None),
    ("楼道顶上悬空挂着一根电线接着个灯泡", {WR}, "medium"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), FRESH)
def test_fresh_wordings(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Guards added after re-scoring the other sets: look-alikes the new families first caught.
GUARDS: list[CASES] = [
    ("房东电话不通，楼道里干干净净", set(), None),
    ("6层砖混楼，单楼梯，楼道畅通无杂物", set(), None),
    ("培训机构里十几个学生在上课，安全出口被链条锁住", {BX}, "critical"),
    ("过道只留半米，两边电瓶车插着电在充", {EB, BX}, "high"),
    ("棋牌室后门插销插着，当场打开，通道已恢复", {BX}, "low"),
    ("楼道充电的事以前有过，这次查下来一辆都没有", set(), None),
    ("她以为是真的，已经给“客服”转了八千", {FR}, "high"),
    ("对方昨天又让他交了一笔手续费，今天才发现被骗", {FR}, "high"),
]

# ---- Siblings of the same causes found among the older sets' remaining misses, written after
# the fixes: a fix the reporter made himself (我把…拔了), confiscation, Wu negation (弗出水, 弗有),
# a stock "study group", reported to the property office (an order), a drill that turned
# something up (结果…).
SIBLINGS: list[CASES] = [
    ("凌晨巡逻发现楼梯间电动车在充电，我把插头拔了", {EB}, "low"),
    ("寝室里学生给电动车电池充电，充电器当场没收", {EB}, "low"),
    ("小区后门的消火栓弗出水", {EQ}, "medium"),
    ("楼道里充电个事体，阿拉这里是弗有个", set(), None),
    ("被拉进一个炒股学习群，“老师”让充值入金，还没充", {FR}, "medium"),
    ("灭火器过期两具，已报物业更换", {EQ}, "medium"),
    ("我把情况跟物业讲了，楼道杂物还堆着", {BX}, "medium"),
    ("组织疏散演练，结果发现安全出口被锁", {BX}, "medium"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), GUARDS + SIBLINGS)
def test_guards(classify, text, expected, severity):
    check(classify, text, expected, severity)


def test_first_run_record():
    """The record above covers every probe of ``ALL`` once."""
    assert sum(n for _, n in FIRST_RUN.values()) == len(ALL)
    assert FRESH_FIRST_RUN[1] == len(FRESH)
