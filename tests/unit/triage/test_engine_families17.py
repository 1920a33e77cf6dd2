"""Seventeenth round of families: the classes behind blind18's misses, probed with texts of my own.

blind18 was scored once, unseen (0.935 / 0.933 / 0.855 / 0.870). Each miss was read for its
class and the class widened in rules.yaml (comments ``round17:``). No text here is taken from a
data set; each test has texts the rule must get right and traps it must not fire on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, FR, WR, codes

CASES = tuple[str, set[str], str | None]


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- Words hidden in longer ones: 没电 (no power) read inside 没电瓶车 / 没电梯; a charge that
# cannot happen (充不了); a parcel stuck and a shop's busy line are no loss and no scam call.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("3单元楼道没电瓶车在充电，干干净净", set(), None),
        ("车棚里没电动车了，都推走了", set(), None),
        ("老房子没电梯，灭火器倒是每层都有", set(), None),
        ("台风天停电一整晚，电动车充不了电，只能明天再说", set(), None),
        ("停电了电瓶车充不上，啥时候来电啊", set(), None),
        ("驿站的快递取不出来，客服电话打不通，耽误事", set(), None),
        ("楼道里电瓶车在充电，应急灯也没电了不亮", {EB, "FIRE_EQUIPMENT_FAILURE"}, "high"),
        ("他卡里的钱取不出来了，对方说要先交解冻费", {FR}, "high"),
    ],
)
def test_words_hidden_in_longer_ones(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- A permission question ("…可以…吗?") asks about the rules: no finding, unless the next
# sentence says the case is real; a "可以" inside a live scam still counts.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("电瓶车电池可以拎到阳台上充吗？", set(), None),
        ("请问电动车可以停在楼道里充电吗", set(), None),
        ("电动车可以在楼道里充电吗？我们楼天天这样。", {EB}, "high"),
        ("对方问我可以转账吗，我正在输密码", {FR}, "critical"),
    ],
)
def test_a_permission_question(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- A story from the news is no case seen; a 96110 warning that sent someone to the door
# reports the case they found.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("新闻里说最近有人冒充客服让人屏幕共享，大家小心", set(), None),
        ("看到新闻上讲刷单被骗的，我妈问我是不是真的", set(), None),
        ("接到96110预警，提醒辖区居民注意冒充公检法诈骗", set(), None),
        ("96110预警上门：张阿姨正在和自称公安的人视频，要她把钱转到安全账户", {FR}, "critical"),
        ("预警后跟民警上门，小伙子还开着屏幕共享，正要转第二笔", {FR}, "critical"),
    ],
)
def test_news_and_96110_visits(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Fixes said in other words: put back as it was (恢复原状: 原 is no past), markings
# repainted (重新划: 重新 is no recurrence), a plug pulled and the bike wheeled away.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("住户从走廊灯线上私接了一根线给冰箱，已当场拆掉，恢复原状", {WR}, "low"),
        ("车库出口的黄线重新划了，上周清走了堵口的废车，今天看出口畅通", set(), None),
        ("楼梯间一辆电瓶车插着电，车主拔了插头推去车棚", {EB}, "low"),
        ("楼梯间一辆电瓶车插着电，车主当场拔掉插头", {EB}, "low"),
        ("楼梯间一辆电瓶车插着电，要求车主拔掉插头，车主不理", {EB}, "high"),
        ("应急灯拔了插头试了一下，不亮", {"FIRE_EQUIPMENT_FAILURE"}, "medium"),
    ],
)
def test_fixes_in_other_words(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Wiring run by hand, said of the line ("自己拉的线"), a joint wrapped in black tape, and a
# fire lane fenced off as private parking.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("夜市摊主自己拉的电线挂在树上，一直拖到路边", {WR}, "medium"),
        ("仓库里那根线接头用黑胶布缠着，摸上去发烫", {WR}, "medium"),
        ("从窗户自己拉的线给电瓶车充电", {EB}, "medium"),
        ("消防通道被几户业主装了地锁圈成车位，消防车进不来", {BX}, "medium"),
        ("小区门口放了几个石墩挡外来车辆", set(), None),
    ],
)
def test_wiring_by_hand_and_fenced_fire_lanes(classify, text, expected, severity):
    check(classify, text, expected, severity)
