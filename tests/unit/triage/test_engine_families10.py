"""Tenth round: the causes behind blind10's misses, probed with texts of my own.

blind10 was scored once by the round-9 engine (0.895 / 0.890 / 0.802 / 0.850). Its misses were
grouped by cause, not by phrase: a past word or a "no" belonging to another story that made a
present hazard read as fixed earlier; a rules question ("算不算违规?") muting a case the
reporter says is real; "nobody changed it" read as a fix; fixes said by what was carried off
or by the way open again; night-check shorthand (ddc, cd, a tally of zero); decay, bare joints,
smoke and English; the exit said as the door a building is left by or as "no other stair";
scam lines (a relative's new number, avoiding risk control) that a "not fraud" word vetoed;
calls checked and found genuine; other senses (cars in their bays, a barrier gate, a kite on
the overhead line, rewiring). Each cause was fixed in engine logic or as a family (comments
``round10:`` in rules.yaml; ``TriageEngine.fixed_earlier`` and the ``case_ref`` step in
``TriageEngine.sentences``). No text here is taken from a data set.

First-time-right counts (``FIRST_RUN``): the 46 texts of ``ALL`` were written before any fix
and run once against the round-9 engine (HEAD 99409a5): 24 of 46 right. One expectation was
corrected afterwards (smoke from a tenant's socket: medium, not critical, as DOMAIN.md's
critical needs people said to be at risk); it was wrong on the first run either way. The 20
texts of ``FRESH`` were written after the fixes, in other words, and run once: 20 of 20 right.
``GUARDS`` are look-alikes the new families must leave alone (checked after the fixes).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes

CASES = tuple[str, set[str], str | None]

# Right first time, per cause, with the round-9 engine (before the fixes).
FIRST_RUN = {
    "STALE_PAST": (4, 6),
    "QUESTION": (4, 5),
    "NOT_FIXED": (3, 4),
    "FIX_AS_RESULT": (1, 4),
    "SHORTHAND": (1, 4),
    "DECAY": (3, 4),
    "EXIT_DOOR": (2, 4),
    "FRAUD_SCRIPT": (2, 4),
    "NOT_FRAUD": (3, 5),
    "OTHER_SENSES": (1, 6),
}
FRESH_FIRST_RUN = (20, 20)


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- A. A past word or a "no" about another story does not make a present hazard "fixed earlier"
#    (engine: ``TriageEngine.fixed_earlier``); a re-check still to come is pending, not past.
STALE_PAST: list[CASES] = [
    (
        "入户走访：客厅里的灭火器压力表指针在红区，老人说上周有人上门推销净水器，她没理。",
        {EQ},
        "medium",
    ),
    (
        "前天晚上停电大家摸黑下楼，发现唯一的楼梯被一堆旧家具堵住，好在没出事，到今天还没搬。",
        {BX},
        "high",
    ),
    ("水泵房查看：消防水泵控制柜在手动状态，值班员说上次保养后一直没切回自动。", {EQ}, "medium"),
    ("4幢楼梯间堆满纸箱和旧沙发，该楼没有第二部楼梯，已拍照，明天再来复查。", {BX}, "high"),
    ("上周发现楼道堆放杂物，今天复查已清理干净，未发现新的问题。", set(), None),
    ("上个月反映的灭火器过期问题，今日复查已全部更换。", set(), None),
]

# ---- B. "Does THIS count?" points back at a case described: a report, not a rules question
#    (the case said real in the next sentence: engine, ``case_ref`` in ``sentences``).
QUESTION: list[CASES] = [
    ("我们楼有户人家每天把电瓶车推进电梯厅充电，一充一晚上，这样算不算违规？", {EB}, "high"),
    ("隔壁邻居从三楼阳台吊一根线下来给他的新能源汽车充电，这个合不合法？", {WR}, "medium"),
    ("走廊里的消火栓箱里面的水带都烂了，这种算不算消防设施坏了？", {EQ}, "medium"),
    ("请问电动车在小区院子的充电桩充电算不算违规？", set(), None),
    ("想问一下，电瓶车停在楼下空地上会不会被罚款？", set(), None),
]

# ---- C. Nobody changed or restored it, persuasion failed: not a fix (and not an equipment fault).
NOT_FIXED: list[CASES] = [
    ("我们那栋楼的灭火器好多年没人换过了，压力指针早就到红区了。", {EQ}, "medium"),
    ("地下车库的应急灯坏了快半年了，一直没人修。", {EQ}, "medium"),
    ("楼道里两辆电瓶车天天在充电，物业劝了好几次都无效。", {EB}, "high"),
    ("喷淋阀门检修后没开回去，一直关着。", {EQ}, "medium"),
]

# ---- D. Fixes said by what was moved or by the way open again; a notice handed out is an order;
#    equipment unplugged is a fault.
FIX_AS_RESULT: list[CASES] = [
    ("三楼安全出口被一个旧衣柜挡住，我和保安一起把衣柜抬到楼下了，现在通了。", {BX}, "low"),
    ("超市后门安全门被货堆顶住推不开，叫店员当场把货搬进库房，门能推开了。", {BX}, "low"),
    ("2号楼楼道有人私拉电线给电瓶车充电，已发整改通知书。", {EB}, "high"),
    ("楼梯间应急灯的电源插头被人拔了，我当场插上，测试亮了。", {EQ}, "low"),
]

# ---- E. Night-check shorthand: pinyin initials (ddc, dpc, cd, mhq) and tallies of zero.
SHORTHAND: list[CASES] = [
    ("夜查 城中村出租楼 2F楼梯口 ddc cd中 x3 线从201拉出 已拍照", {EB}, "high"),
    ("巡查记录 堆物0 飞线0 ddc充电0 mhq在位 安出畅通", set(), None),
    ("出租房检查 dpc在楼道cd 房东电话没人接", {EB}, "high"),
    ("例行巡查 私拉电线0 楼道堆物0 消防栓正常", set(), None),
]

# ---- F. Equipment and wiring said by decay, bare joints, smoke or in English.
DECAY: list[CASES] = [
    ("消火栓箱里的水带发霉烂掉了，水枪也不见了。", {EQ}, "medium"),
    (
        "The emergency light in our stairwell doesn't work, 按了测试也不亮,"
        " the exit sign is dark too.",
        {EQ},
        "medium",
    ),
    ("作坊里几台机器的电线都是剥了皮直接拧在一起的，没包胶布。", {WR}, "medium"),
    ("楼上租户把电线从走廊拉进屋里用电炉，线趴在地上，插座冒黑烟。", {WR}, "medium"),
]

# ---- G. The exit said as the door a building is left by, "no other stair", junk, "can't get out".
EXIT_DOOR: list[CASES] = [
    (
        "员工宿舍晚上十点后楼下唯一的大门就被老板从外面锁上，里面住着三十多个工人。",
        {BX},
        "critical",
    ),
    ("这栋楼楼梯间堆满了废品，整栋楼没有其他楼梯可以下去。", {BX}, "high"),
    ("我家门口过道里堆满了破烂，门都快出不去了。", {BX}, "medium"),
    ("小区大门晚上十点关门，要刷卡进出。", set(), None),
]

# ---- H. A scam's own lines (a relative's new number, avoiding risk control), the password being
#    typed, the seller gone or the goods never sent.
FRAUD_SCRIPT: list[CASES] = [
    (
        "我爸收到“孙子”的微信说手机坏了用同学的号，让他马上转三千交学费，我爸现在正在手机银行输密码。",
        {FR},
        "critical",
    ),
    (
        "邻居正在跟一个“客服”视频，对方让她把钱转到安全账户说是为了避开风控，快来人。",
        {FR},
        "critical",
    ),
    (
        "在抖音上买了一台冰箱，付了两千块，后来又让交运费，付完人就拉黑了，冰箱也没发货。",
        {FR},
        "high",
    ),
    ("我的手机坏了，拿去店里修，店员让我先付三百块检测费。", set(), None),
]

# ---- I. A call checked and made by the named office; a fee complaint; a story years old.
NOT_FRAUD: list[CASES] = [
    ("居民问是不是骗子打电话让她去领补贴，我核实了，是街道工作人员打的，不用转账。", set(), None),
    ("接到一个自称电力公司的电话说电费欠了，我去营业厅问，工作人员说确实是他们打的。", set(), None),
    ("物业说车库门禁卡丢了补一张要交一百块，这个收费合理吗？", set(), None),
    ("发传单时一个大爷讲他老伴几年前差点被骗，后来没转钱，那是好几年前的事了。", set(), None),
    ("刚才一个陌生号码说我快递丢了要理赔，让我加QQ，我没加，挂了。", {FR}, "medium"),
]

# ---- J. Other senses: cars in their bays, a barrier gate, a line on the overhead wire, a habit
#    switched to a legal pile, rewiring (not a recurrence), asking where charging is legal.
OTHER_SENSES: list[CASES] = [
    ("园区消防通道画了禁停线，车辆都停在停车位上，秩序很好。", set(), None),
    ("小区后门的道闸坏了，车进不来，物业说明天来修。", set(), None),
    ("广场上有人放风筝，线缠在电线上，很危险。", set(), None),
    ("以前我们楼好多人在家里给电瓶车充电，现在都去楼下的充电柜了。", set(), None),
    ("复查上月的私拉电线：已请电工重新布线，线路规范。", set(), None),
    ("Where can I charge my e-bike legally around here? 我想找个合规的充电点。", set(), None),
]

ALL = (
    STALE_PAST
    + QUESTION
    + NOT_FIXED
    + FIX_AS_RESULT
    + SHORTHAND
    + DECAY
    + EXIT_DOOR
    + FRAUD_SCRIPT
    + NOT_FRAUD
    + OTHER_SENSES
)


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Written after the fixes, in other words (run once: 20 of 20 right).
FRESH: list[CASES] = [
    ("请问电瓶车停在单元门厅里充电算违规吗？我们这栋好几户都这样。", {EB}, "high"),
    ("请问楼道里放鞋柜算不算违规？", set(), None),
    ("三楼走廊灭火器的压力表指到红区了，昨天物业来过，说会换，到现在也没人换。", {EQ}, "medium"),
    ("上周巡查楼道堆物，今天复查已清理完毕。", set(), None),
    ("消防栓的箱子门锈死了打不开，里面水带也烂了。", {EQ}, "medium"),
    ("夜查 7幢 1F楼梯下 dpc x2 cd中 房东已通知", {EB}, "high"),
    ("日常巡查 堆物0 ddc0 飞线0 灭火器在位", set(), None),
    ("店里的电线接头剥了皮直接绞在一起，地上还有水。", {WR}, "medium"),
    ("厂区宿舍唯一的进出口晚上被锁，里面住着二十多名员工。", {BX}, "critical"),
    ("二单元楼梯上堆了一堆破烂，单元没有别的楼梯。", {BX}, "high"),
    ("楼梯间有张旧床垫挡着安全出口，我叫了两个邻居把床垫抬走了，现在能通了。", {BX}, "low"),
    (
        "邻居阿姨正在跟“儿子”视频，对方说换了新号，让她先转两万，她现在正在手机银行转钱。",
        {FR},
        "critical",
    ),
    ("网上买的电动车付了三千，一直没发货，卖家把我拉黑了。", {FR}, "high"),
    ("有人打电话说是社保局的要我核对信息，我去社保窗口问了，说确实是他们打的。", set(), None),
    ("以前大家都在楼道里给电瓶车充电，现在都去充电棚了。", set(), None),
    ("窗口伸出一根线挂在防盗窗上，下面接着一辆电动车在充电。", {EB}, "medium"),
    ("店门口的广告灯箱电线绑在铁栏杆上，没穿管。", {WR}, "medium"),
    ("放学路上看到风筝线缠到电线上了，挺危险。", set(), None),
    ("小区地下车库道闸坏了，车子一直进不来。", set(), None),
    ("早上检查配电房：应急灯电源被人拔了，已重新插上，测试正常。", {EQ}, "low"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), FRESH)
def test_fresh_wordings(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Look-alikes the new families must leave alone (a narrowed word, a sibling still firing).
GUARDS: list[CASES] = [
    ("老楼道墙皮破烂不堪，灯也暗。", set(), None),
    ("以前电瓶车都在车棚充，现在大家都到楼道里充电了。", {EB}, "high"),
    ("消防车道被两辆货车堵着，车开不进来。", {BX}, "medium"),
    ("开展反诈宣传活动，发放宣传单200份。大家都这样说。", set(), None),
    ("居民反映楼上漏水，水都滴到楼下的电线上了", {WR}, "medium"),
    ("楼梯间的应急灯插头被拔掉了，一直没人插回去。", {EQ}, "medium"),
    ("10/28 检查时安全出口被锁，已于当天整改。今日复查：出口可正常开启。", set(), None),
    ("三楼过道里一辆电瓶车在充电，线从屋里拉出来搭在栏杆上。", {EB}, "high"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), GUARDS)
def test_guards(classify, text, expected, severity):
    check(classify, text, expected, severity)


def test_first_run_record():
    """The record above covers every probe of ``ALL`` once."""
    assert sum(n for _, n in FIRST_RUN.values()) == len(ALL)
    assert sum(right for right, _ in FIRST_RUN.values()) == 24
    assert FRESH_FIRST_RUN[1] == len(FRESH)
