"""Twelfth round: the causes behind blind13's misses, probed with texts of my own.

blind13 was scored by the round-11 engine (0.935 / 0.930 / 0.857 / 0.886). Its misses were
grouped by cause, not by phrase: an exit fastened shut with cable ties; equipment painted over,
silent when tested ("一点声音都没有" read as a negation), due for replacement, a cabinet found
empty in the next clause ("里面什么都没有" read as nothing found); a fault a drill revealed,
muted with the drill; wiring with its joint "露在" somewhere, strips "串起来", wet, a cable
named by its load ("照明线" hid 照明), a cable "是从…搭下来的" (the trie read 是从 and
stepped over the 从 where the round-11 pattern starts); clutter "周围是…" round a charging
bike; a floor's landing ("二楼平台") read as an online platform; a balcony a cable comes
down from read as indoors; a fire lane said by the engines it lets in read as the only exit;
a past report dated by its month, a leak "不漏了" at the re-check, replacement with a new part,
rewiring by an electrician called in ("请" read as a request, "重新" as a recurrence);
fraud: an office in quotes other than the police, paid removal of bad reviews, a borrowed
avatar, crowdfunding with daily returns, a deal moved off the platform, a bare sum "借走了",
persuasion to hang up (no outcome) and a refused hang-up read as the call ended, counterfeit
goods read as a claimed identity, a caller's claim found true. Each cause was fixed as a
family or a rule (comments ``round12:`` in rules.yaml); the engine code did not change. No
text here is taken from a data set.

The probes were written after the fixes; ``OLD_ENGINE_RIGHT`` records how many of ``ALL`` the
round-11 rules got right (the old rules.yaml loaded into the same engine): 14 of 45, so the
probes test the new families rather than old behaviour. ``GUARDS`` are look-alikes the new
families must leave alone (all 21 were already right with the old rules).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streams.triage.engine import Triage
from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes

CASES = tuple[str, set[str], str | None]

# Of the probes in ALL, how many the round-11 rules classified right (codes and severity).
OLD_ENGINE_RIGHT = (OLD_RIGHT := 14, OLD_TOTAL := 45)


def check(
    classify: Callable[..., Triage], text: str, expected: set[str], severity: str | None
) -> None:
    t = classify(text)
    assert (codes(t), t.severity) == (expected, severity), text


# ---- A. Exits fastened shut with ties, rope or wire; clutter all round a charging bike; a stair
#    typo; a floor's landing; a fire lane said by the engines it lets in.
EXITS: list[CASES] = [
    ("网吧的安全出口被人用扎带扎死了，里面有十几个人在上网。", {BX}, "critical"),
    ("KTV消防通道的门把手用绳子捆死了。", {BX}, "medium"),
    ("安全出口的门被铁丝捆死了，店里正在营业。", {BX}, "critical"),
    ("楼梯口一辆电动车在充电，周围都是纸箱和旧家具。", {EB, BX}, "high"),
    ("楼道转角有辆电瓶车充电，四周堆满了纸箱。", {EB, BX}, "high"),
    ("这栋楼就一个楼体，楼体口堆着几袋垃圾。", {BX}, "high"),
    ("五楼平台上堆满了杂物。", {BX}, "medium"),
    ("小区唯一能进消防车的路被几辆私家车停满了。", {BX}, "medium"),
]

# ---- B. Equipment painted over, silent, due for replacement, a cabinet found empty; a fault
#    revealed by a drill or a test.
EQUIPMENT: list[CASES] = [
    ("走廊的烟感被装修工人用油漆刷住了。", {EQ}, "medium"),
    ("烟感上面被人刷了一层油漆。", {EQ}, "medium"),
    ("按了消防警铃，一点声音也没有。", {EQ}, "medium"),
    ("店里的灭火器是2015年的，早该换了吧？", {EQ}, "medium"),
    ("消火栓箱打开一看，里面空空的，水带水枪都没了。", {EQ}, "medium"),
    ("消防箱门一拉开，里面啥也没有。", {EQ}, "medium"),
    ("上周消防演练的时候，三楼的警铃没响。", {EQ}, "medium"),
    ("厂房里的警铃测试的时候不响。", {EQ}, "medium"),
]

# ---- C. Wiring: a joint left bare somewhere, strips strung together, wet wiring, a cable
#    named by its load beside a charging bike, a cable hung from a pole or a meter box.
WIRING: list[CASES] = [
    ("菜场摊位的电线接头露在外面，风一吹就晃。", {WR}, "medium"),
    ("理发店三个插线板串起来用，吹风机都插在上面。", {WR}, "medium"),
    ("仓库里的插线板一个串一个，接了好几台风扇。", {WR}, "medium"),
    ("地下室配电箱进了水，里面的电线湿漉漉的。", {WR}, "medium"),
    ("电动车在楼道充电，楼顶还私拉了几根照明线。", {EB, WR}, "high"),
    ("工地板房的电线是从路边电线杆上搭下来的。", {WR}, "medium"),
    ("他家电线都是从楼道电表箱上搭过来的。", {WR}, "medium"),
]

# ---- D. E-bike severity: a floor's landing is the stair; a balcony a cable comes down from
#    leaves the bike outside.
EBIKES: list[CASES] = [
    ("三楼平台停着两辆电瓶车在充电，线从302窗户拉出来。", {EB}, "high"),
    ("有户人家从三楼阳台吊了根线下来，给楼下的电瓶车充电。", {EB}, "medium"),
]

# ---- E. Fixes: a past report dated by its month, a leak stopped, a new part fitted, rewiring
#    by an electrician called in on the spot.
FIXES: list[CASES] = [
    ("4月中旬反映的楼道应急灯不亮，物业已经换了，今天看了能亮。", set(), None),
    ("上个月报的消防栓漏水，今天复查不漏了。", set(), None),
    ("去年报过的消防栓漏水，物业修了，今天看不漏了。", set(), None),
    ("楼道应急灯不亮，电工当场换好了灯管。", {EQ}, "low"),
    ("安全出口指示牌的灯坏了，当场换了个新的。", {EQ}, "low"),
    ("出租房的电线老化，房东请电工当场重新布了线。", {WR}, "low"),
]

# ---- F. Fraud: offices in quotes, paid review removal, a borrowed avatar, crowdfunding with
#    daily returns, a deal moved off the platform, a bare sum borrowed; persuasion or a refused
#    hang-up while the call goes on.
FRAUD: list[CASES] = [
    ("接到“城管”电话说店招违规要罚款，让扫码交钱。", {FR}, "medium"),
    ("网店老板接到电话，对方说收费帮忙删掉淘宝上的差评，要先转800。", {FR}, "medium"),
    ("商户说有人打电话能帮忙删差评，一条50元。", {FR}, "medium"),
    ("有人用我表姐的照片当头像加我妈微信，说急需周转，我妈转了3000。", {FR}, "high"),
    ("有人用我的头像加了我爸微信借钱，我爸转了2000。", {FR}, "high"),
    ("阿姨在一个群里投了个养老众筹项目，说每天返1%，已经投进去两万。", {FR}, "high"),
    ("二手平台上卖家让加微信私下交易，说可以便宜两百，我没理。", {FR}, "medium"),
    ("网购时“客服”让加QQ私下退款，我没加。", {FR}, "medium"),
    ("微信上的“老同学”说急用，借走了8000，后来发现号是假的。", {FR}, "high"),
    ("我让大爷先挂断电话，他不听，还在跟“警官”视频。", {FR}, "critical"),
    ("阿姨正在跟“公安”视频，要转钱，我让她挂掉她不听。", {FR}, "critical"),
    ("上门时大妈正在跟“客服”通话要转钱，我劝她挂断电话。", {FR}, "critical"),
]

# ---- G. Other senses: counterfeit goods; a caller's claim found true.
OTHER_SENSES: list[CASES] = [
    ("陪老人去市场监管局投诉买到的假冒白酒。", set(), None),
    ("快递员打电话让我去驿站拿件，我去了，还真有我的。", set(), None),
]

ALL: list[CASES] = EXITS + EQUIPMENT + WIRING + EBIKES + FIXES + FRAUD + OTHER_SENSES


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Look-alikes the new families must leave alone.
GUARDS: list[CASES] = [
    # cables tidied with ties; a building's body; a landing used to dry quilts; surroundings
    ("楼道里的网线用扎带捆起来了，整整齐齐。", set(), None),
    ("楼道里那排电线用扎带扎好了，很整齐。", set(), None),
    ("楼体外墙有几块瓷砖掉了。", set(), None),
    ("二楼平台上有人晒被子。", set(), None),
    ("小区周围都是小饭店，晚上很吵。", set(), None),
    ("单元门口周围是草坪，很干净。", set(), None),
    # the only stair stays the only way out
    ("只有一个楼梯，楼梯口被杂物堵了。", {BX}, "high"),
    # quiet, not silent equipment; a drill told, not a fault it revealed
    ("晚上楼道里一点声音都没有，很安静。", set(), None),
    ("今天在小区搞了消防演练，居民学会了用灭火器。", set(), None),
    ("消防演练时模拟了楼道电动车充电起火。", set(), None),
    ("消防演练的时候大家都很认真。", set(), None),
    # a checked cabinet and an empty corridor
    ("灭火器箱检查了，正常，楼道里什么都没有堆放。", set(), None),
    # a cable that only charges a bike stays the e-bike finding; a balcony the bike stands on
    ("电动车在楼道充电，充电线是从家里拉出来的。", {EB}, "high"),
    ("电瓶车停在楼下，充电线是从三楼阳台吊下来的。", {EB}, "medium"),
    ("电瓶车推到阳台上充电。", {EB}, "high"),
    # a re-check that finds it back; a cable pulled again for a bike is no rewiring
    ("3月初报的楼道堆物，今天复查又堆上了。", {BX}, "medium"),
    ("3月报的楼道灭火器过期，今天看还是没换。", {EQ}, "medium"),
    ("上次说的那户前几天又重新拉了线给电瓶车充电。", {EB}, "medium"),
    # a hang-up that happened; persuasion followed by no payment is an attempt stopped
    ("我劝他挂断，他挂了。", set(), None),
    ("阿姨正在跟自称公安的人通电话，我劝她挂断电话，没转账。", {FR}, "medium"),
    # a platform that is a shop, not a landing
    ("平台上买的东西不发货，商家失联，损失500元。", {FR}, "high"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), GUARDS)
def test_guards(classify, text, expected, severity):
    check(classify, text, expected, severity)


def test_old_engine_record():
    """The record above covers every probe of ``ALL``."""
    assert OLD_TOTAL == len(ALL)
    assert OLD_RIGHT == 14
