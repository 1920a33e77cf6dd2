"""Sixteenth round: the causes behind blind17's misses, probed with texts of my own.

blind17 was scored by the round-15 engine (0.940 / 0.939 / 0.859 / 0.880; 28 reports missed).
The misses were grouped by cause and each cause fixed as a class (comments ``round16:`` in
rules.yaml and engine.py), then probed with new variants (other objects, verbs, places, typos,
traditional characters, questions, complaints, logs) and with look-alike negatives:

- muting paths: a 96110 warning or a publicity stall that led to a case happening now (正在和…,
  还在电话里, 银行柜台: group ``live``) is not muted; a notice handed out after a case seen or
  fixed (…当场拔了插头…发了提醒卡) mutes only itself; a check said 检查到/入户检查到 is a find;
- complaints: 都没搬走, 也没用, 到现在还没清, 装作没看见, 视而不见 are a fix not made or a look
  away, not "nothing found";
- fix state: 诉求/恳请 are demands, 叫醒/喊来/一起处理 are help arriving (no fix); 请物业电工当场
  拆除 is a fix; a second item fixed with 也…了 (纸箱也搬回屋里了), a strip or cable taken down;
- only route: 只有一个出入口/进出口; 只剩前门 (one door of two) is not the only route; the only
  fire lane said with the fire engine is a fire lane (medium);
- block from the bike itself (从车旁边挤过去), the shelf a battery sits on (鞋柜上放着), 楼道长 (a
  warden, but 楼道长期 is the corridor), a numbered flat's door (502门口) is the landing;
- words: exit-sign light boxes in quotes, expiry said passed, a dead equipment battery, a needle
  in the red, 私啦 typos, a socket carrying many appliances, logistics-compensation scams, the
  payment screen, and 快递员 alone is no scam word;
- benign contexts: charging said at the legal place (充电区充), an office counter (窗口), a car's
  slow-charging pile, old equipment taken down after new was fitted;
- a window cable that feeds an appliance too (给冰柜通电) is ILLEGAL_WIRING beside EBIKE_CHARGING;
- a follow-up visit (情绪也稳定) and a flagged call that was a courier's are no fraud.

Of the positive and negative probes below, 35 were classified wrongly by the round-15 engine; the
others (most look-alike negatives and some variants) passed before and guard the widening. No
text is taken from a data set.
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


# ---- A. A notice, a warning, publicity or a campaign record that also tells a case seen.
MUTED: list[CASES] = [
    (
        "96110预警说5幢的王大爷正在跟自称“医保局”的人打电话，我们赶到时他还在通话，对方让他把养老钱转到安全账户。",
        {FR},
        "critical",
    ),
    (
        "接到96110推送预警后马上上门，李阿姨正开着屏幕共享跟“客服”视频，我们让她先挂断。",
        {FR},
        "critical",
    ),
    (
        "反诈宣传摆摊时，一个阿姨过来说“快递客服”正在电话里教她开通备用金，让她马上转钱过去。",
        {FR},
        "critical",
    ),
    (
        "反诈宣传进小区发传单，有个大爷说他刚被“投资导师”骗了3万块，昨天转的，现在对方拉黑了。",
        {FR},
        "high",
    ),
    ("消防宣传周入户检查到5幢一楼楼梯间的灭火器压力表指针在红区，物业当场换了一瓶。", {EQ}, "low"),
    (
        "巡查时发现3单元楼道有辆电动车在充电，车主当场拔掉插头推到充电棚，发了温馨提示卡。",
        {EB},
        "low",
    ),
    ("安全宣传月排查到小吃店后门被纸箱堵死，老板当场搬开了。", {BX}, "low"),
    ("培训结束后巡查到2楼走廊插线板串了三个，当场拆了一个。", {WR}, "low"),
    (
        "积分制检查：6幢楼道电瓶车插着电在充，车主在家，当场推走，按规定扣2分，发了提醒单。",
        {EB},
        "low",
    ),
    ("温馨提示：楼道内禁止停放电动车充电，违者扣分。", set(), None),
    ("物业在群里发了通知，说最近有人冒充客服让退款，大家注意。", set(), None),
    ("开展反诈宣传进社区活动，讲解了屏幕共享、安全账户等常见骗局。", set(), None),
    ("消防宣传月活动：在小区广场发放宣传单，演示灭火器使用方法。", set(), None),
    ("96110预警说一户居民接了可疑电话，上门核实是儿子换了新号码打的，没问题。", set(), None),
    (
        "联合检查记录：1.消防通道畅通；2.灭火器有效；3.出租房4楼走廊电瓶车插着电在充；4.未发现飞线。",
        {EB},
        "high",
    ),
    ("物业贴了通知说不准在楼道充电，可3楼那户今晚又把电瓶车推到楼道里充上了。", {EB}, "high"),
    ("请问楼道里充电瓶车算不算违规？我们单元302天天这样充。", {EB}, "high"),
    ("网格员发放告知书时看到201门口电瓶车插着线在充，当场劝车主推到充电棚。", {EB}, "low"),
    ("119宣传月入户，发现一楼楼梯间堆着煤气罐和纸箱，把路堵了一半。", {BX}, "medium"),
]

# ---- B. A complaint: the 没 of a fix not made or of looking away is no "nothing found".
UNFIXED: list[CASES] = [
    ("二楼楼梯上堆的旧沙发半个月了都没清走，这栋就一个楼梯。", {BX}, "high"),
    ("3幢楼道天天有人充电瓶车，跟物业说了好几次也没用，能不能来管管？", {EB}, "high"),
    ("消火栓箱的玻璃碎了、水带不见了，报了两次到现在还没修。", {EQ}, "medium"),
    ("安全出口被仓库的货堵着，老板说过两天清，到现在也没搬。", {BX}, "medium"),
    ("走廊里私拉的电线挂得到处都是，房东视而不见。", {WR}, "medium"),
    ("楼下那根从窗户吊下来的充电线，物业贴了整改单都没人管。", {EB}, "medium"),
    ("后门一直锁着，跟店长反映过，他装作没听见，店里十几个顾客。", {BX}, "critical"),
    ("楼道里的应急灯坏了一个多月，物业始终没换。", {EQ}, "medium"),
    ("检查了5幢楼道，都没有发现电瓶车充电。", set(), None),
    ("楼道里都没堆东西，消防通道畅通。", set(), None),
    ("本次巡查出租房10户，也没发现私拉电线。", set(), None),
    ("我们这栋就一个楼梯，楼梯上堆满了废品，物业也不管，到底有没有人管？", {BX}, "high"),
    ("反映了三次了，安全出口还是被锁着，里面住着十几个工人，你们到底管不管？", {BX}, "critical"),
    ("樓道裡的滅火器都過期了，物業一直沒換。", {EQ}, "medium"),
    ("楼道里堆的纸板箱到现在还没清，走都走不过去。", {BX}, "medium"),
]

# ---- C. A demand or help called in is no fix; a fix said with 也…了 or by a named worker is.
FIX_STATE: list[CASES] = [
    (
        "工单：来电人反映某足浴店营业中把安全出口锁了，里面有客人。诉求：请尽快处理。",
        {BX},
        "critical",
    ),
    (
        "夜查发现出租楼唯一楼梯口3辆电动车在充电，楼上住满了人，已喊来房东一起处理。",
        {EB},
        "critical",
    ),
    ("巡查发现走廊有根私接的插线板，请物业电工当场拆除了。", {WR}, "low"),
    (
        "楼道里电瓶在充，旁边插排上又串了个插排，住户当场把电瓶拿回屋里了，串的插排也拔了。",
        {EB, WR},
        "low",
    ),
    (
        "发现2楼平台堆着旧家具把楼梯挡了一半，还有辆电驴插着电，喊来住户，车推下楼了，家具也搬走了。",
        {BX, EB},
        "low",
    ),
    ("市民反映小区消防车道被几辆私家车长期占用。诉求：要求立即处理。", {BX}, "medium"),
    ("网吧安全出口被锁，里面二十多个人上网，已联系老板过来处理。", {BX}, "critical"),
    ("楼道电动车充电，已当场劝离，车主推到充电棚充了。", {EB}, "low"),
    ("消防通道被杂物堵住，已督促店主当场清走。", {BX}, "low"),
    ("闭门器也拆了，防火门用木块顶着常开。", {BX}, "medium"),
    ("12345工单：来电人反映小区消防栓被撞坏一直漏水。诉求：请相关部门尽快维修。", {EQ}, "medium"),
    ("夜查发现宿舍唯一的楼梯被杂物堵死，楼上住了30多个工人，已通知老板过来处理。", {BX}, "high"),
]

# ---- D. The only doorway said plainly; the door left of two and the only fire lane are medium.
ONLY_ROUTE: list[CASES] = [
    ("民宿只有一个出入口，门口摆满了行李和快递箱，人只能侧身过。", {BX}, "high"),
    ("小饭馆就一道门进出，老板把冰柜和纸箱堆在门边，只剩一条缝。", {BX}, "high"),
    ("这家理发店只有一个进出口，里面堆满了货，进出都要侧身。", {BX}, "high"),
    ("麻将馆后门被沙发挡死了，只剩前门能走。", {BX}, "medium"),
    ("超市两个出口锁了一个，现在只剩正门进出。", {BX}, "medium"),
    ("小区唯一的消防车道被花坛和石墩占了，消防车进不来。", {BX}, "medium"),
    ("民宿只有一个出入口，目前畅通，无堆放。", set(), None),
    ("小区只有一个出入口，早高峰车很堵，希望再开个门。", set(), None),
    ("这家小吃店只有一道门，门口被冰柜和煤气罐挡了一大半。", {BX}, "high"),
]

# ---- E. Squeezing past the charging bike, the shelf under a battery, a warden: no block, no place.
BIKE_ITSELF: list[CASES] = [
    (
        "地下室上来的那部楼梯，每天都有人把电瓶车推进去充电，走的人都要从车旁边挤过去。",
        {EB},
        "high",
    ),
    ("楼道长反映：601门口鞋架上放着一块电瓶在充，线从屋里拉出来的。", {EB}, "high"),
    ("我是5幢楼栋长，楼道里每晚停着两辆电动车在充电。", {EB}, "high"),
    ("1202室门口有辆电动车插着电充，线是从门缝拉出来的。", {EB}, "high"),
    ("我是3幢的楼道长，今天巡楼楼道干净，没有电瓶车。", set(), None),
    ("楼道长期没人打扫，灰很大，希望物业安排保洁。", set(), None),
    ("楼道长组织大家学习灭火器使用。", set(), None),
]

# ---- F. Names, typos, phrasings: exit-sign boxes, expiry, 私啦, logistics scams, pay screens.
WORDS: list[CASES] = [
    ("KTV走廊的“安全出口”指示灯不亮了，老板说灯坏了没来得及换。", {EQ}, "medium"),
    ("出口灯箱黑着，拆开一看灯管烧了。", {EQ}, "medium"),
    ("楼道里那几瓶灭火器有效期早就过了，也没人换。", {EQ}, "medium"),
    ("烟感电池没电了，一直嘀嘀响，房东说不管。", {EQ}, "medium"),
    ("群租房私啦电线，一个插线板带了七八个电器。", {WR}, "medium"),
    ("收到短信说快递丢件了，可以申请三倍赔付，让点链接填银行卡号。", {FR}, "medium"),
    ("王阿姨手机上已经是付款页面了，“客服”还在电话里催她输密码。", {FR}, "critical"),
    ("消防前室的应急照明灯电池坏了，按测试键不亮。", {EQ}, "medium"),
    ("小区门口的广告灯箱黑着，影响晚上照明。", set(), None),
    ("快递到了，快递员打电话让我下楼拿。", set(), None),
    ("灭火器都在有效期内，压力正常。", set(), None),
    ("手机没电了，借用社区电话联系家人。", set(), None),
    ("楼道那个绿色的“安全出口”灯牌不亮了。", {EQ}, "medium"),
    ("短信说我的快递“包裹异常”，要点链接申请理赔，我没点。", {FR}, "medium"),
    ("出租屋里私啦乱接的电线一大堆，插线板上又串插线板。", {WR}, "medium"),
]

# ---- G. Legal charging places, office counters, old equipment taken down after new was fitted.
BENIGN: list[CASES] = [
    ("宿舍管理员说电瓶都在楼外充电棚充，宿舍里不准充电，今天查了6间都符合要求。", set(), None),
    ("员工宿舍配了充电柜，电池统一在充电柜里充，楼内无充电。", set(), None),
    ("想在自家车位装个慢充桩，要去哪个窗口办手续？", set(), None),
    ("社区服务窗口可以申请电动汽车充电桩报装吗？", set(), None),
    ("物业给每层楼换装了新的灭火器箱，旧的都拆掉了。", set(), None),
    ("街道统一给出租房装了新的烟感，旧的全拆了。", set(), None),
    ("宿舍里有人把电瓶拎进房间充电，楼外充电柜空着。", {EB}, "high"),
    ("他从家里窗户拉线给楼下的电动汽车充电。", {WR}, "medium"),
    ("电瓶车都在小区充电棚里充，楼道里没有车。", set(), None),
    ("工地宿舍统一在楼外充电区充电瓶，宿舍内无电器乱接。", set(), None),
]

# ---- H. One window cable feeding an appliance as well as a bike (E+W).
FEEDS: list[CASES] = [
    ("小卖部老板从二楼窗户吊下一根线，白天给门口冰柜供电，晚上给电瓶车充电。", {EB, WR}, "medium"),
    ("3楼阳台垂下来一根线，给楼下摊子的冰箱用，晚上又接去给电动车充电。", {EB, WR}, "medium"),
    ("202又从窗户吊线给楼下电瓶车充电，线缠在空调外机支架上。", {EB}, "medium"),
    ("水果店老板从二楼窗口放下一根线，给门口冰柜通电，晚上还给电动车充电。", {EB, WR}, "medium"),
]

# ---- I. A fraud case closed or a flagged call verified.
CLOSED: list[CASES] = [
    ("上个月劝阻过的那位大爷，今天回访，他说再没接到那种电话，情绪也很稳定。", set(), None),
    ("96110预警一户接了境外来电，上门核实，是快递小哥打的，没有转账。", set(), None),
    ("老人拿着“包裹异常”的短信来问，查了是快递公司系统发的，链接是官方的。", set(), None),
    ("回访时发现上周劝阻过的那位大姐又被“刷单客服”骗了5000。", {FR}, "high"),
    ("上周劝阻过的那位阿姨今天回访，她说那个“客服”再没打来过，情绪平稳。", set(), None),
]

# ---- J. Look-alikes of the new words.
LOOKALIKES: list[CASES] = [
    ("小区出入口的道闸坏了，车进出要等很久。", set(), None),
    ("楼栋长组织楼里居民开会，讨论装电动车充电棚。", set(), None),
    ("万一着火怎么办？想问问社区有没有灭火器培训。", set(), None),
    ("家里鞋柜上放着几个充电宝，算不算隐患？", set(), None),
    ("我们在银行柜台办理了社保卡，很顺利。", set(), None),
    ("正在和物业沟通充电棚选址，下周定方案。", set(), None),
]

ALL: list[CASES] = (
    MUTED
    + UNFIXED
    + FIX_STATE
    + ONLY_ROUTE
    + BIKE_ITSELF
    + WORDS
    + BENIGN
    + FEEDS
    + CLOSED
    + LOOKALIKES
)


@pytest.mark.parametrize(("text", "expected", "severity"), ALL)
def test_family(classify, text, expected, severity):
    check(classify, text, expected, severity)
