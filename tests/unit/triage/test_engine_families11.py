"""Eleventh round: the causes behind blind11's and blind12's misses, probed with texts of my own.

blind11 and blind12 were scored by the round-10 engine (0.966 / 0.967 / 0.960 / 0.918 and
0.965 / 0.962 / 0.926 / 0.895). Their misses were grouped by cause, not by phrase: a second
load wired beside an e-bike's charge (each finding's "not the other load" test vetoed the
other), a charge verb fused with the bike ("拉线充电瓶车"), a cable said by where it was pulled
from; fixes said by their result ("拆下", "固定好", "当场搬回", "线已经收了", someone called in
to do it on the spot), persuasion with a re-check still to come, "原位" read as a past word;
a gauge needle below the green, equipment put away in a store room; a way one squeezes
through one at a time; payments still going on ("在付第二笔", "还在扣"), finished ones read as
under way ("去银行转了", "还没挂失"), time said with 没 ("没多久…被转走") read as a negation,
a sum paid said bare ("付了980"), a near miss ("差点转了"), the reporter cutting the call on
arrival; a message judged fake, the soldier by his uniform, a call checked and found genuine
("真的是"); and other senses (a cost shared, an English request, fire stairs, a hydrant
cabinet tied shut, a legal charging facility named in full, people counted with 位, a typo
of 梯, an instruction to "us" read as a scammer's "让我"). Each cause was fixed as a family
or a rule (comments ``round11:`` in rules.yaml); the engine code did not change. No text here
is taken from a data set.

The probes were written after the fixes; ``OLD_ENGINE_RIGHT`` records how many of ``ALL`` the
round-10 rules got right (the old rules.yaml loaded into the same engine): 8 of 36, so the
probes test the new families rather than old behaviour. ``GUARDS`` are look-alikes the new
families must leave alone (12 of 13 were already right with the old rules; the thirteenth, a
bank trip told as done, was read as in progress).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes

CASES = tuple[str, set[str], str | None]

# Of the probes in ALL, how many the round-10 rules classified right (codes and severity).
OLD_ENGINE_RIGHT = (OLD_RIGHT := 8, OLD_TOTAL := 36)


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- A. An e-bike's charge and other wiring in one report: each judged in its own clause; the
#    charge verb fused with the bike; a cable said by where it was pulled from.
TWO_LOADS: list[CASES] = [
    ("一户从窗口拉线充电动车，还拉了根线给门口的鱼缸水泵用。", {EB, WR}, "medium"),
    ("出租屋里电瓶车推进房间充电，电饭煲和热水器是房东从楼道私接的线。", {EB, WR}, "high"),
    ("每间隔断房的空调线都是从总闸上自己拉的，楼梯口还有两辆电动车在充电。", {EB, WR}, "high"),
    ("三楼飞线充电瓶车，线从阳台吊下来。", {EB}, "medium"),
]

# ---- B. Fixes said by their result or done by someone called in on the spot; persuasion with a
#    re-check to come is no fix; "原位" is a place, not the past.
FIX_RESULT: list[CASES] = [
    ("楼道的疏散指示牌掉下来了，我当场用扎带重新固定好。", {EQ}, "low"),
    ("租户插线板串了三个，当场拆下两个，改插墙上插座。", {WR}, "low"),
    ("楼梯口堆了几箱旧书，住户当场搬回家了，通道畅通。", {BX}, "low"),
    ("楼道配电箱的电线被剪断接到自家灯上，已请物业电工当场接好。", {WR}, "low"),
    ("出租房里两块电瓶放在床头充电，已劝导，后天再来复查。", {EB}, "high"),
    ("上周那户从窗户拉线充电的，今天复查线已经收了。", set(), None),
    ("二楼的灭火器被收进储物间了，当场拿出来挂回原位。", {EQ}, "low"),
]

# ---- C. Equipment: a needle below the green; put away in a store room.
EQUIPMENT: list[CASES] = [
    ("走廊两具灭火器的压力指针都在黄线以下。", {EQ}, "medium"),
    ("大堂的灭火器指针已经不在绿区了。", {EQ}, "medium"),
    ("三楼的灭火器被放在杂物间里，走廊上一个也没有挂。", {EQ}, "medium"),
]

# ---- D. A way one squeezes through one at a time is blocked.
NARROW: list[CASES] = [
    ("老楼只有一部楼梯，二楼平台被邻居放了个旧衣柜，过人只能挤着过。", {BX}, "high"),
    ("单元楼道里堆着几袋水泥，只能一个一个过。", {BX}, "medium"),
    ("就一个楼挮，楼挮上还堆满纸箱。", {BX}, "high"),
]

# ---- E. Fraud: money still moving; finished acts not read as under way; a loss said bare.
FRAUD_NOW: list[CASES] = [
    ("邻居大姐正在按“客服”说的办退款，已经付了一笔，现在在付第二笔。", {FR}, "critical"),
    ("孙子玩游戏说有人送皮肤让他扫码，手机已经扣了三笔钱，还在扣。", {FR}, "critical"),
    ("老人说上个月接到“公安”电话，去银行转了5万，前几天才知道被骗了。", {FR}, "high"),
    ("大爷点了短信里的链接，没多久卡里3000块被划走了，卡到现在还没挂失。", {FR}, "high"),
    ("朋友圈买了两盒月饼券，付了368，对方把我删了。", {FR}, "high"),
    ("“领导”加微信让会计转钱，会计差点转了，打电话问过领导后没转。", {FR}, "medium"),
    ("上门时阿姨正开着屏幕共享跟“客服”视频，我们立刻帮她挂断了电话报警。", {FR}, "critical"),
    ("我妈说卖茶叶的人让她先付定金，她现在一笔一笔在转，劝她她不听。", {FR}, "critical"),
]

# ---- F. Fraud signs: a message judged fake; the soldier by his uniform; a call found genuine.
FRAUD_SIGNS: list[CASES] = [
    ("收到短信说医保卡需重新认证，附了个链接，我一看就是假的，没点。", {FR}, "medium"),
    ("有个穿军装的人打电话来订五十箱矿泉水，要老板先垫钱从指定厂家代采。", {FR}, "medium"),
    ("有人自称街道工作人员打电话问住房情况，我打街道电话核实了，真的是他们在登记。", set(), None),
    ("去中学上反诈课，讲了刷单和冒充客服两种骗局。", set(), None),
]

# ---- G. Other senses: a cost shared, a request in English, fire stairs, a hydrant cabinet tied
#    shut, a legal facility named in full; people counted with 位; an instruction to "us".
OTHER_SENSES: list[CASES] = [
    ("两户为楼道灯的电费怎么分摊吵架，已调解。", set(), None),
    ("Could we get more e-bike charging points near the east gate?", set(), None),
    ("Someone keeps an ebike in the fire stairs and charges it there.", {EB}, "high"),
    ("楼道消火栓箱的门被孩子用绳子绑住了，当场解开。", {EQ}, "low"),
    ("居民建议在北门空地增设集中充电设施。", set(), None),
    ("KTV里有二十多位客人在唱歌，后面的安全出口上了锁。", {BX}, "critical"),
    ("门卫叫我们自己去物业补办门禁卡，一张收50块，这合理吗？", set(), None),
]

ALL: list[CASES] = (
    TWO_LOADS + FIX_RESULT + EQUIPMENT + NARROW + FRAUD_NOW + FRAUD_SIGNS + OTHER_SENSES
)


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Look-alikes the new families must leave alone (a narrowed word, a sibling still firing).
GUARDS: list[CASES] = [
    # a cable run only to charge an e-bike stays the e-bike finding alone
    ("电动车的充电线是从一楼住户家里拉出来的，车停在楼道口充电。", {EB}, "high"),
    ("拉线充电瓶车的情况，本次检查没有。", set(), None),
    # persuasion followed by a fix on the spot is still a fix; an order is not
    ("楼道里一辆电动车在充电，已劝导车主当场推走。", {EB}, "low"),
    ("走廊灭火器过期了，已请物业尽快更换。", {EQ}, "medium"),
    # equipment at its post, needle in the green
    ("灭火器挂在走廊原位，指针在绿区，压力正常。", set(), None),
    ("灭火器被放在走廊拐角，压力正常。", set(), None),
    # no way named: squeezing is not a blocked exit
    ("超市门口领鸡蛋的人很多，只能一个一个过。", set(), None),
    # a bare number after 转了 that is no money; a bill paid; a call really from the office
    ("今天转了12345热线的两个工单给物业。", set(), None),
    ("这个月水费交了85，比上个月多。", set(), None),
    ("核实了，真的是骗子，老人已经报警。", {FR}, "medium"),
    # still a finished loss, not in progress, when the bank trip is told as done
    ("她去银行转了2万给“儿子”，今天才知道被骗。", {FR}, "high"),
    # a scammer steering one victim is still a lure
    ("陌生人加她微信，让我转5000到指定账户，说是保证金。", {FR}, "medium"),
    # a call hung up by the victim herself, no money moved: a stopped attempt
    ("阿姨接到冒充客服的电话，觉得不对劲自己挂断了，没有转账。", {FR}, "medium"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), GUARDS)
def test_guards(classify, text, expected, severity):
    check(classify, text, expected, severity)


def test_old_engine_record():
    """The record above covers every probe of ``ALL``."""
    assert OLD_TOTAL == len(ALL)
    assert OLD_RIGHT == 8
