"""Fourteenth round: the causes behind blind15's misses, probed with texts of my own.

blind15 was scored by the round-13 engine (0.960 / 0.957 / 0.928 / 0.895; 34 misses). Its misses
were grouped by cause, not by phrase, and each cause fixed as a family (comments ``round14:`` in
rules.yaml):

- casual or indirect hazards: a cable put up "for the time being" (临时拉的); a back room said
  plainly (小间, 里间); the stair between floors written with F (2F-3F之间); the only door named
  by its kind without a count (唯一的卷帘门); a cabinet said with 的 that holds none
  (灭火器的箱子里一个都没有); equipment gone, said by the empty rack left (只剩空架子); a way
  spread over with crops laid out to dry (铺满, 晒满);
- negation scope: "no longer needed" (不用在屋里充了), charging denied with 不 (不插电的), a
  question whether such a rule exists (有没有这个规定?), a log item closed by 无 or ticked √;
- fixed on the spot or not: a reminder is no fix (已提醒更换), a replacement fetched (换来一个新
  的), the bike taken to a legal charging place (推去充电棚了); fixed earlier: a repair told as
  past in a clause of its own, then the dry ground at the re-check (engine: ``_past_repair``);
- harmless objects near hazard words: the furniture a battery stands on while charging
  (放在柜子上充电) is no clutter in the way; a smell of burning where e-bikes charge is the
  bikes', not a wiring fault;
- fraud said casually: on the call and paying at once (一边跟对方视频一边转账); the reporter
  cannot get through to the victim, who is on the scam call (打不通她电话: not the scammer gone);
  the victim cut the scammer off on our advice (已让他删了好友: no loss); an invitation to a
  sales talk (约她去听讲座) is the scam's lure, not publicity.

Every probe in ``ALL`` was checked against the round-13 engine and rules (run from a copy of
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


# ---- A. Casual or indirect hazards.
CASUAL: list[CASES] = [
    ("车棚里临时拉的照明线挂在铁架上。", {WR}, "medium"),
    ("烧烤摊后面隔出来的小间里，两块电瓶插着充电。", {EB}, "high"),
    ("理发店的里间放着一块电池在充电。", {EB}, "high"),
    ("3F-4F之间停着一辆电驴在充电。", {EB}, "high"),
    ("一楼灭火器的箱子里一个也没有。", {EQ}, "medium"),
    ("小超市唯一的卷闸门晚上从外面锁上，店员就睡在里面。", {BX}, "critical"),
    ("小区后门被晒的玉米铺满了。", {BX}, "medium"),
    ("每层楼道都有灭火器，现在五楼只剩个空架子。", {EQ}, "medium"),
]

# ---- B. Negation scope: no longer needed, 不 before charging, a rules question, a log's 无 and √.
NEGATION: list[CASES] = [
    ("小区有了换电站，租户都说不用在房间里充电池了。", set(), None),
    ("电瓶车在走廊里停一晚，不插电的。", set(), None),
    ("电瓶车推到楼道里充个电，到底有没有这种规定？", set(), None),
    ("7幢 楼道√ 灭火器√ 飞线无 充电无", set(), None),
]

# ---- C. Fixed on the spot, an order, fixed earlier.
FIXES: list[CASES] = [
    ("灭火器压力不足，店主马上从仓库换来一个新的。", {EQ}, "low"),
    ("楼道应急灯不亮，已提醒物业更换。", {EQ}, "medium"),
    ("楼道里一辆电瓶车在充电，车主下楼拔了插头，把车推去充电棚了。", {EB}, "low"),
    ("二楼那个漏水的消火栓，物业前几天维修过，今天去看地面是干的。", set(), None),
]

# ---- D. Harmless objects near hazard words.
OBJECTS: list[CASES] = [
    ("邻居把电池搁在过道的柜子上充电。", {EB}, "high"),
    ("三辆电驴在楼梯间充电，插座是墙上新装的，闻到一股焦味。", {EB}, "high"),
]

# ---- E. Fraud said casually.
FRAUD: list[CASES] = [
    ("阿姨现在一边跟对方视频一边按他说的转账。", {FR}, "critical"),
    ("我妈接到自称银行客服的电话，对方让她开屏幕共享，我打不通她电话。", {FR}, "critical"),
    ("有人在抖音上让大爷先交500元保证金领补贴，我们已让他删了好友。", {FR}, "medium"),
    ("有人打电话给王阿姨推荐高息理财，约她去酒店听讲座。", {FR}, "medium"),
]

ALL: list[CASES] = CASUAL + NEGATION + FIXES + OBJECTS + FRAUD


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)
