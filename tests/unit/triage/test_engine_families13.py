"""Thirteenth round: the causes behind blind14's misses, probed with texts of my own.

blind14 was scored by the round-12 engine (0.969 / 0.967 / 0.949 / 0.936). Its misses were
grouped by cause, not by phrase: fire equipment under water or that will not start ("被淹",
"没法启动" were no fault words); the customs/police script (a parcel "seized" with contraband,
the call "put through" to the police) had no words; 电瓶 typed by sound, bare ("店瓶"); the
stair said by the floors it joins or by its steps ("二三楼之间的台阶"), and passing pressed
against a wall ("贴墙挪"); the only way out said with 的 ("仅有的一条楼梯"); a floor written
"3F" before 平台; "拆开一看" read as a fix (拆开); a bed or bunk as the indoor place; an EV
driver ("开电车的") read as an e-bike; fraud at it right now said with 正 and the app
("正开着屏幕共享": a loss word in the same clause had blocked critical), a bank clerk
stalling the victim ("柜员拖着她") and pressing by message ("一直发消息催"); an English
"no problem" and power from the venue's own distribution box; and a rules question about the
reporter's own plan ("我想在店门口摆几张桌子，这样算不算占用消防通道?"), where "这样算不算"
read as a case seen. Each cause was fixed as a family (comments ``round13:`` in rules.yaml);
the plan question needed an engine rule (``plan``, see ``TriageEngine.mute_context``). No text
here is taken from a data set.

The probes were written after the fixes; ``OLD_ENGINE_RIGHT`` records how many of ``ALL`` the
round-12 engine and rules (run from a copy) got right: 10 of 31, so the probes test the new
families rather than old behaviour. ``GUARDS`` are look-alikes the new families must leave
alone (all 20 were already right with the round-12 engine).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes

CASES = tuple[str, set[str], str | None]

# Of the probes in ALL, how many the round-12 engine classified right (codes and severity).
OLD_ENGINE_RIGHT = (OLD_RIGHT := 10, OLD_TOTAL := 31)


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- A. Fire equipment under water or that will not start.
EQUIPMENT: list[CASES] = [
    ("暴雨过后地下车库积水，喷淋泵泡了水，到现在还启动不了。", {EQ}, "medium"),
    ("消防水泵试了好几次都启动不起来。", {EQ}, "medium"),
    ("小区东门的室外消火栓上周被淹了，现在还没人来修。", {EQ}, "medium"),
    ("配电房隔壁的消防泵房进水了，水泵没法启动。", {EQ}, "medium"),
]

# ---- B. The customs/police script: a parcel seized with contraband, the call put through.
FRAUD_SCRIPT: list[CASES] = [
    ("阿婆接到电话，说她寄往国外的包裹里查出违禁品，要帮她转接警方。", {FR}, "medium"),
    ("有人打电话给我爸，说他的快递被海关扣了，要转接网警处理。", {FR}, "medium"),
    (
        "独居老人接到陌生来电，对方说他的包裹夹带违禁品，已经转接到公安，让他别挂电话。",
        {FR},
        "critical",
    ),
]

# ---- C. 电瓶 typed by sound, bare.
TYPOS: list[CASES] = [
    ("有户人家把店瓶拎进屋里充电。", {EB}, "high"),
    ("二楼租户的垫瓶就放在卧室里充电。", {EB}, "high"),
]

# ---- D. The stair by its floors or steps; passing pressed against a wall or sideways.
STAIRS: list[CASES] = [
    ("四五楼之间的台阶上摆满了花盆和纸箱。", {BX}, "medium"),
    ("楼梯台阶上堆着好几袋水泥。", {BX}, "medium"),
    ("楼道里放了两个旧柜子，大家上楼都得贴着墙走。", {BX}, "medium"),
    ("走廊被装修材料占了大半，只能侧着身子挪过去。", {BX}, "medium"),
]

# ---- E. The only way out said with 的; a floor written 3F.
ONLY_WAY: list[CASES] = [
    ("这栋楼仅有的一部楼梯被几个柜子堵了一半。", {BX}, "high"),
    ("棋牌室唯一的一个安全出口被锁了，里面还有二十多个客人。", {BX}, "critical"),
    ("凌晨一点，这幢楼仅有的一条楼梯下面停着三辆电动车在充电。", {EB}, "critical"),
    ("5F平台堆了好几个纸箱。", {BX}, "medium"),
    ("2F平台一辆电瓶车插着电在充。", {EB}, "high"),
]

# ---- F. Opened up to look is no fix; a bed is indoors; an EV driven is a car.
PLACES_AND_FIXES: list[CASES] = [
    ("灭火器压力表指针在红区，拆开一看阀门也锈死了。", {EQ}, "medium"),
    ("楼道的烟感一直不响，打开一看电池早没电了，已报物业更换。", {EQ}, "medium"),
    ("工人睡的上下铺边上有块电池插着充电。", {EB}, "high"),
    ("出租楼里有人把电动车电瓶放在床铺边充电。", {EB}, "high"),
    ("开电车的那户从厨房拉了根线到楼下车位给车充电。", {WR}, "medium"),
]

# ---- G. Fraud at it right now: 正 with the app, pressing by message, a clerk stalling.
FRAUD_NOW: list[CASES] = [
    ("她正开着屏幕共享，按对方说的把钱转过去了一笔。", {FR}, "critical"),
    ("理财群里的老师一直发消息催，让她再投五万进去。", {FR}, "critical"),
    (
        "银行打来电话说，一位大爷要把十万存款转给自称证监会的人，柜员拖着他，请社区马上派人。",
        {FR},
        "critical",
    ),
]

# ---- H. All fine: English, power from the venue's own box; a rules question about a plan.
NOTHING: list[CASES] = [
    ("夜市摊位的电线都是从统一配电箱拉的，no problem。", set(), None),
    ("消防通道 all clear，灭火器 no problem。", set(), None),
    ("我打算在楼梯口放个鞋柜，这样算不算占用通道？", set(), None),
    ("我们想在店门口搭个棚子，会不会被罚？", set(), None),
    ("我想把电动车推进楼道里充电，这样算不算违规？", set(), None),
]

ALL: list[CASES] = (
    EQUIPMENT + FRAUD_SCRIPT + TYPOS + STAIRS + ONLY_WAY + PLACES_AND_FIXES + FRAUD_NOW + NOTHING
)


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Look-alikes the new families must leave alone.
GUARDS: list[CASES] = [
    # flooding with no fire equipment in it
    ("楼下车库被淹了，好几辆汽车泡了水。", set(), None),
    ("地下室被淹了，物业正在抽水。", set(), None),
    # customs named with no call; a talk about the script; a case handed to the police
    ("快递站说有个包裹被海关退回来了。", set(), None),
    ("社区民警来讲了海关包裹类骗局，提醒大家别信。", set(), None),
    ("纠纷双方已转到派出所调解。", set(), None),
    # bottled water is no battery
    ("小店瓶装水卖完了。", set(), None),
    # clean steps; steps in front of a gate are no stair
    ("三四楼之间的台阶很干净，没有杂物。", set(), None),
    ("小区门口的台阶上有人摆摊卖菜。", set(), None),
    # one of two stairs is not the only one; a shopping platform is no landing
    ("这栋楼有两部楼梯，其中一部堆了些杂物。", {BX}, "medium"),
    ("在购物平台上买了个灭火器。", set(), None),
    # a fix is still a fix; a bed frame is no hazard
    ("灭火器过期了，已当场更换。", {EQ}, "low"),
    ("上下铺的床架松了，已经报修。", set(), None),
    # an e-bike ridden stays an e-bike
    ("骑电车的外卖小哥在楼道里充电。", {EB}, "high"),
    # a fire door still open (the 正/还/一直开着 words are also door_open)
    ("防火门一直开着，也没人关。", {BX}, "medium"),
    ("防火门还开着，用砖头顶住。", {BX}, "medium"),
    # power pulled from a neighbour is wiring
    ("摊位电线是从隔壁店里私拉过来的。", {WR}, "medium"),
    # a case seen and asked about stays a case; a case said in the next sentence stands
    ("楼梯口被人放了个鞋柜，这样算不算占用通道？", {BX}, "medium"),
    ("电动车在楼道里充电算不算违规？我们楼有两户天天这样。", {EB}, "high"),
    # a fee pressed for by the property company is no scam; a plan word keeps its 我
    ("物业打电话催缴物业费两千元。", set(), None),
    ("我想把钱转到对方说的安全账户里。", {FR}, "critical"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), GUARDS)
def test_guards(classify, text, expected, severity):
    check(classify, text, expected, severity)


def test_old_engine_record():
    """The record above covers every probe of ``ALL``."""
    assert OLD_TOTAL == len(ALL)
    assert OLD_RIGHT == 10
