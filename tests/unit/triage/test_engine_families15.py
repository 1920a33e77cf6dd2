"""Fifteenth round: the causes behind blind16's misses, probed with texts of my own.

blind16 was scored by the round-14 engine (0.947 / 0.945 / 0.897 / 0.880; 22 reports missed).
Its misses were grouped by cause, not by phrase, and each cause fixed as a family (comments
``round15:`` in rules.yaml; no engine change):

- fixed on the spot, said without 当场 beside the verb: done in front of the reporter
  (当着我的面拔掉), replaced by the reporter for the owner (给他换了), moved elsewhere (挪到);
  and the morning is a time, not 早 ("already"): "早上再装回去" reports no fix;
- casual or indirect hazards: a lock said with 着 (上着锁), the width left said in people
  (只剩半个人宽), insulation gone (没有外皮), a gauge's needle at zero, tables of guests counted
  (几十桌: a full room), a cable run along a wall (顺着墙), strips plugged one into another
  (一个套一个);
- fraud said casually: a friend's account stolen (QQ被盗), a part-time job's bait (日结, 接任务),
  money taken as fees (被收了) or asked for and handed over (要了8800), almost paid (差点交了),
  at the bank about to pay (准备转); a bystander's doubt (觉得不对) no longer stops money moving,
  the victim's doubt followed by a hang-up still does;
- notices and questions: a warning forwarded to a group (群里转一下…骗子很多), asking leave for
  one's own plan (想在…可以吗?), a phone's black screen from its own fault (cold, flat battery);
- harmless objects near hazard words: a doorway standing empty (门口都空着) is clear, the mains
  switched off (拉了电闸) is no cable pulled, a charging pile with a typo (充电庄) is still legal,
  a day told as past (那天…清走了) with a clean re-check now.

Every probe in ``ALL`` was checked against the round-14 engine and rules (run from a copy of
HEAD): each one was classified wrongly there and is right here. No text is taken from a data set.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes

CASES = tuple[str, set[str], str | None]


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- A. Fixed on the spot, said without 当场 beside the verb; the morning is no "already".
FIXES: list[CASES] = [
    ("出租房卫生间里一块电池在充电，房东当着我们的面拔了插头。", {EB}, "low"),
    ("面馆的灭火器压力不够了，我们车上带着备用的，给她换了一个。", {EQ}, "low"),
    ("仓库安全出口堆着几袋面粉，店员当场把面粉挪到货架上了。", {BX}, "low"),
    ("楼上那户晚上把电池拎进屋，早上再装上车，屋里一整夜插着充电器。", {EB}, "high"),
]

# ---- B. Casual or indirect hazards.
CASUAL: list[CASES] = [
    ("网吧里二十多个人在上网，后面的安全出口上着锁。", {BX}, "critical"),
    ("唯一的楼梯拐角放了两个咸菜坛子，只有一个人宽。", {BX}, "high"),
    ("车棚顶上的电线好几处没了外皮，风一吹就晃。", {WR}, "medium"),
    ("走廊灭火器的压力表指针落到零了。", {EQ}, "medium"),
    ("饭店包厢的疏散门被铁链锁了，晚上订了二十桌。", {BX}, "critical"),
    ("有根电线顺着水管上了三楼，给他家的烤火炉用。", {WR}, "medium"),
    ("理发店墙角的插线板一个插着一个，一共三个。", {WR}, "medium"),
]

# ---- C. Fraud said casually.
FRAUD: list[CASES] = [
    ("同事在微信上找我借了2000，当晚才知道他的微信号被盗了。", {FR}, "high"),
    ("邻居阿姨说有人拉她进群，说动动手指点赞就能日结。", {FR}, "medium"),
    ("王大爷办贷款被收了手续费、保证金共6000元。", {FR}, "high"),
    ("网上有人说交800就能修复征信，我表哥差点交了。", {FR}, "medium"),
    ("张阿姨在银行排队，要把钱汇给网上认识的投资导师。", {FR}, "critical"),
    ("阿姨正在按“客服”说的转钱，旁边的女儿觉得不对，赶紧打了110。", {FR}, "critical"),
]

# ---- D. Notices, questions about one's own plan, a phone's own fault.
NOTICES: list[CASES] = [
    ("群里转一下：最近冒充银行客服的骗子很多，接到陌生电话说卡被冻结的不要信。", set(), None),
    ("春节想在院子里挂灯笼，从厨房插座拉根线出去行不行？", set(), None),
    ("奶奶的手机昨天突然黑屏了，可能是没电了，充了一晚上又能用了。", set(), None),
]

# ---- E. Harmless objects near hazard words.
OBJECTS: list[CASES] = [
    ("检查三家面馆：灭火器都在，后门口都空着。", set(), None),
    ("春节前空置房走访：住户出门前都拉了电闸，门窗关好。", set(), None),
    ("小区新装了充电庄，电瓶车都推过去充，楼道里一辆都没有了。", set(), None),
    ("清明前那天楼梯间的纸箱都搬走了，今天复查，楼梯间很干净，没有新堆的东西。", set(), None),
]

ALL: list[CASES] = FIXES + CASUAL + FRAUD + NOTICES + OBJECTS


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)
