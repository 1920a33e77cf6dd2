"""Seventh round of families: the classes behind blind7's misses, probed with texts of my own.

blind7 was scored once (0.893 / 0.891 / 0.829 / 0.845). Each miss was read for its class (an
object's other name, a state said by its symptom, a scope rule, a severity cue, a fraud script, a
look-alike that fired), and the class was widened in rules.yaml (comments ``round7:``) with the
variants an unseen writer would use: inspection officialese, work-chat shorthand, elderly and Wu
speech, English mixed in, typos. No text here is taken from a data set. ``test_fresh_wordings``
was written after the widening and run once before any further fix: 28 of its 30 texts were
right first time (a pile request said "推到…那边去充" and a tally "飞线充电 0处" were not; both
classes are now closed).
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


# ---- Charging said as feeding or topping up (吃电, 补电, 续电, Wu 插牢来东充), plugged in said by
# the plug or a warm bike, English "plugged in"; phones and legal piles are not hazards.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("3楼楼道一辆电瓶车在吃电", {EB}, "high"),
        ("走廊里那台电驴在补电，插头拖到302屋里", {EB}, "high"),
        ("阿拉楼下门厅有部电瓶车插牢来东充", {EB}, "high"),
        ("一楼门厅有人给电动自行车“续电”，车停在门厅里", {EB}, "high"),
        ("楼梯下一辆电动车插头插在墙上插座里，车身还热", {EB}, "high"),
        ("someone's e-bike plugged in at the corridor overnight", {EB}, "high"),
        ("楼道里停着一台立马插着电", {EB}, "high"),
        ("电瓶车在充电桩上补电，楼道干净", set(), None),
        ("手机在吃电，充电宝也插着", set(), None),
        ("他立马把车推走了，楼道现在畅通", set(), None),
    ],
)
def test_charge_verbs(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Rooms where only the bike stands (basements, bike rooms, meter rooms, back stores):
# indoors even when a strip is run to the bike there; a broken pile in a car park is nothing.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("地下车库里十几辆电动车拉了个插排在充", {EB}, "high"),
        ("自行车房里插着五辆电瓶车在充", {EB}, "high"),
        ("电表间里塞了辆电驴在充电", {EB}, "high"),
        ("驿站后仓货架上三块外卖电池在充", {EB}, "high"),
        ("B1车库角落七八辆电动车从配电间接了个插排出来在充", {EB}, "high"),
        ("地下车库的充电桩有三个坏了", set(), None),
    ],
)
def test_bike_rooms(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Pile requests in the elderly's words (啥辰光装, 桩子, 推到老远去充) and charging done at the
# pile (充电都在…充电桩): no finding. A rebuilt pack charged in a legal shed: medium.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("啥辰光装个充电的桩子，阿拉电瓶车要推到老远去充", set(), None),
        ("希望小区早点装充电桩，现在只能推出去充", set(), None),
        ("小区啥辰光好装充电柜？电瓶车每日推到菜场那边去充", set(), None),
        ("修车铺里停着修好的电动车，老板说充电都在后院充电桩", set(), None),
        ("充电棚里有辆外卖车，电池明显改过，两组并在一起充", {EB}, "medium"),
        ("快递小哥的电瓶被改装过，在车棚插着充电器", {EB}, "medium"),
    ],
)
def test_piles_and_packs(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Exits: side and back doors; barred, boarded, welded or sealed counts as locked; a room
# full of people said by its crowd (坐满, 人挤人, 在打牌) makes it critical.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("礼堂侧门被铁链锁着，里面坐满了看演出的人", {BX}, "critical"),
        ("饭店后门用木板钉死了，店里坐满客人", {BX}, "critical"),
        ("寺庙边门用木杠顶死，香客人挤人", {BX}, "critical"),
        ("棋牌室安全出口被封起来了，里面还有人在打牌", {BX}, "critical"),
        ("洗衣店安全出口门被木板封起来了，店还在营业，有客人", {BX}, "critical"),
        ("教堂晚上锁门，里面没人", set(), None),
        ("配电房门常年锁着", set(), None),
        ("六楼楼梯口锁着一台电瓶车在充电", {EB}, "high"),
    ],
)
def test_sealed_exits(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- A way hard to pass, said by its consequence (侧身, 贴着墙, 过不去, Wu 弗好走), typos of the
# clutter (纸厢); drains, lift pits and a 模拟器 (not a drill) are no exit matter.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("楼道里堆了好多纸箱，走路都得侧身", {BX}, "medium"),
        ("过道上摆了一排花盆，人要贴着墙走", {BX}, "medium"),
        ("楼梯口堆满快递箱，过不去", {BX}, "medium"),
        ("走廊里向旧家具摆来东，走路也弗好走", {BX}, "medium"),
        ("两个安全出口，东边那个被纸厢堵死了", {BX}, "medium"),
        ("驾校楼梯口放了两台模拟器，堵得过不去", {BX}, "medium"),
        ("电梯底坑的排水口被垃圾堵了", set(), None),
        ("菜场闭市，通道上的筐子都收进去了，消防通道空的", set(), None),
    ],
)
def test_hard_to_pass(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- The only stair said in Wu (独独一部) or with a place between (就中间一道楼梯); people asleep.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("夜里一点，阿拉楼楼梯独独一部，二楼转角电瓶车插牢电充，大家都困觉了", {EB}, "critical"),
        ("这栋老楼就中间一道楼梯，半夜三楼楼梯口有辆电动车在充电，住户都睡了", {EB}, "critical"),
        ("驾校教室在二楼，只有一道楼梯，楼梯口堆了旧桌椅，剩一半不到", {BX}, "high"),
    ],
)
def test_only_stair(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Fire equipment: typos of 灯/指示 (应急订, 指使牌), standpipes, fire-lift buttons, a detector
# said by what it does and chirping, an empty bottle, an old year; all-fine statements.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("三楼应急订不亮", {EQ}, "medium"),
        ("疏散指使牌掉在地上", {EQ}, "medium"),
        ("消防竖管放不出水", {EQ}, "medium"),
        ("消防电梯迫降按钮坏了", {EQ}, "medium"),
        ("楼道里烟感一直嘀嘀响，应该没电了", {EQ}, "medium"),
        ("楼道里那个冒烟报警的东西一直叫", {EQ}, "medium"),
        ("灭火器还是2018年的", {EQ}, "medium"),
        ("灭伙器空瓶子轻飘飘", {EQ}, "medium"),
        ("消防电梯运行正常", set(), None),
        ("烟感测试正常", set(), None),
        ("物业组织保安学灭火器，每人实操喷了一次", set(), None),
    ],
)
def test_equipment(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Wiring: sockets chained said back to front, power "pulled from the flat" for an appliance;
# a dedicated line with an acceptance form, battery theft, a generator truck are not wiring faults.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("几个电暖器插在一个插坐上，插坐又插在另一个插线板上", {WR}, "medium"),
        ("插座又插在旁边的排插上", {WR}, "medium"),
        ("院子里的水泵电是从屋里拉出来的", {WR}, "medium"),
        ("电子屏是电工接的专用线路", set(), None),
        ("他说最近偷电瓶的很多", set(), None),
        ("剧组把发电车的线从窗户拉进房间给相机电池充电，走廊上全是线", {WR}, "medium"),
    ],
)
def test_wiring(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Fraud: kept on the line (免提, 不让挂), money moving now (正往…转), money gone said by its
# absence (卡里…没了), fake links named, quoted institutions, health products, scam words that
# carry a negator (“…未注销”); black screens of other machines, publicity slogans, verified fees.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("银行柜台前有位大爷开着免提，对方不让他挂电话，让他转钱到指定账户", {FR}, "critical"),
        ("小伙子手机正在往外转钱，对方说是客服", {FR}, "critical"),
        ("我爸被“老师”拉进群，现在正往一个账户里转钱", {FR}, "critical"),
        ("老王点了短信链接，卡里三千块没了", {FR}, "high"),
        ("阿姨收到水费欠费将停水的短信，我看是钓鱼链接，她没点", {FR}, "medium"),
        ("有人自称「社保局」打电话说她医保要停，要她加微信", {FR}, "medium"),
        ("老人在养生群买了特效药，花了八千，吃了没用，商家失联", {FR}, "high"),
        ("有人打电话说他“学生账户未注销”要影响征信，让他下载APP，他没下", {FR}, "medium"),
        ("我妈手机黑屏了，对方还在说话", {FR}, "critical"),
        ("快递柜黑屏了，打了客服", set(), None),
        ("电视机黑屏了，找人修", set(), None),
        ("电脑黑屏了，修电脑的说是显卡坏了", set(), None),
        ("网点播放反诈视频，讲安全账户都是骗人的", set(), None),
        ("家长问班主任收费是不是骗子，学校公众号有通知是统一收的", set(), None),
        ("社区发放高龄补贴200元", set(), None),
        ("个税退税到账了1200元", set(), None),
    ],
)
def test_fraud(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Structure: log items are sentences (1、 2. ①, a space before a building or a clock time),
# so an "all fine" or a fix of one item does not reach the next; an owner's denial (不是他的) is
# no negation; a checklist answered "yes" (消防通道?堵了) keeps its place.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("1、3幢楼道畅通 2、5幢电瓶车在楼道充电 3、灭火器正常", {EB}, "high"),
        ("①楼道无堆物 ②电动车在楼道充电 ③消防栓有水", {EB}, "high"),
        ("巡查记录 7:30 2幢楼道干净 8:10 4幢灭火器过期 8:40 6幢正常", {EQ}, "medium"),
        ("今天走访：3幢楼道无电瓶车 5幢楼道电瓶车充电 已劝离", {EB}, "low"),
        ("出租房：1、楼道电动车充电 无；2、灭火器 2具，1具压力表在红区", {EQ}, "medium"),
        ("检查结果：飞线充电 0处；楼道堆物 0处；灭火器 完好", set(), None),
        ("楼道里堆的旧沙发邻居说不是他的，还堵着", {BX}, "medium"),
        ("电瓶车楼道充电？没有。消防通道？堵了，纸箱堆满", {BX}, "medium"),
        ("楼道里充电的电瓶车当场推走了；楼梯上的旧柜子没人认领，还堵在那里", {BX, EB}, "medium"),
        ("检查了楼道、消防通道、灭火器，都没问题，就是5楼有一辆电瓶车在楼道充电", {EB}, "high"),
    ],
)
def test_structure(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Other registers for the same classes: English, inspection officialese, Wu, work-chat
# shorthand (EB充电x2 已拔), typos (冲电瓶车).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("fire exit locked with a chain, 20 workers inside on night shift", {BX}, "critical"),
        ("stairwell blocked by boxes, can't get through", {BX}, "medium"),
        ("extinguisher expired, no pressure", {EQ}, "medium"),
        (
            "Grandma got a call from fake police, she is transferring money right now at the ATM",
            {FR},
            "critical",
        ),
        ("经排查，该场所安全出口被锁闭，现场有员工12人，已责令立即开启", {BX}, "critical"),
        ("经检查，疏散通道被货物占用，责令限期整改", {BX}, "medium"),
        ("阿拉隔壁屋里厢电瓶车拎上去充，夜快头充到天亮", {EB}, "high"),
        ("老阿爷讲伊被人家骗脱两万块，伊是接了个电话讲是公安局个", {FR}, "high"),
        ("群里@所有人 5幢2单元楼道电驴在充 谁家的赶紧挪", {EB}, "high"),
        ("3F走廊 EB充电x2 已拔", {EB}, "low"),
        ("吾家楼道里有人冲电瓶车，晚上十点多还在冲", {EB}, "high"),
        ("电梯前堆满了装修垃圾，过不去", {BX}, "medium"),
        ("I went to the web site to charge my phone", set(), None),
    ],
)
def test_other_registers(classify, text, expected, severity):
    check(classify, text, expected, severity)


@pytest.mark.xfail(
    strict=True,
    reason="known limit: 'only stair' and night are report-wide, so a second building's bike "
    "takes the first building's cue",
)
def test_cue_of_another_building(classify):
    check(
        classify, "夜里巡查，3幢只有一个楼梯，楼梯里堆满杂物；5幢楼道有电瓶车充电", {BX, EB}, "high"
    )


# ---- Written after the widening, run once before any fix: 28/30 right first time.
FRESH: list[CASES] = [
    (
        "物业保安夜班巡逻，发现12幢架空层里面有两部电驴在续电，插线板从104室门缝里拖出来",
        {EB},
        "high",
    ),
    (
        "阿拉这幢老房子楼梯就一部，昨日夜里12点多四楼楼梯口有人电瓶车在充，一幢楼人全在屋里困觉",
        {EB},
        "critical",
    ),
    ("小区啥辰光好装充电柜？电瓶车每日推到菜场那边去充，老头子吃不消", set(), None),
    ("租客小李把锂电池拎到出租屋卧室床头充了一夜，早上摸上去烫手", {EB}, "high"),
    ("二楼窗口吊下来一根线，楼下电瓶车插在上面充电", {EB}, "medium"),
    (
        "三楼阳台拖下来一根电线，楼下一台电瓶车在充，另一头还接了个路灯一样的大灯",
        {EB, WR},
        "medium",
    ),
    ("KTV二楼消防通道的门被老板用U型锁锁住了，包厢里都是唱歌的客人", {BX}, "critical"),
    ("厂房东侧安全出口门口堆了一堆铁皮料，西侧出口正常", {BX}, "medium"),
    ("这家民宿只有一个楼梯，楼梯上摆满了行李箱和被子，人要侧着身子才能下", {BX}, "high"),
    ("消防演练时模拟楼道被堵，组织居民从另一侧楼梯疏散", set(), None),
    ("我家门口的私家车位被别人的车占了，叫物业来挪", set(), None),
    ("地下室的消防栓箱打开一看，水带没了，只有个空卷盘", {EQ}, "medium"),
    ("5楼楼道应急灯一按测试键不亮，疏散指示牌也是黑的", {EQ}, "medium"),
    ("烟感报警器一直在滴滴叫，估计电池没电了，没人管", {EQ}, "medium"),
    ("今日对3幢进行消防检查，灭火器压力正常，应急灯测试正常，疏散通道畅通", set(), None),
    ("小吃店后厨插线板上又接了两个插线板，电饭煲、电磁炉全插在上面", {WR}, "medium"),
    ("车库里有人从自家电表箱私接一根线给新能源汽车充电", {WR}, "medium"),
    ("电工已按规范重新布线，穿管走线槽，验收合格", set(), None),
    (
        "社区志愿者：6幢刘阿姨正在跟一个自称公安局的视频通话，对方让她把钱转到安全账户，人还在家里",
        {FR},
        "critical",
    ),
    ("3单元小伙子说昨天在网上刷单，前面返了钱，后来充了两万多，对方把他拉黑了", {FR}, "high"),
    ("老周接到电话说他的医保卡在外地被盗刷，要他配合调查，他觉得不对挂了", {FR}, "medium"),
    ("今天在社区广场开展反诈宣传，给居民讲冒充客服退款的套路，发放宣传册200份", set(), None),
    (
        "银行网点报：一位大爷手机屏幕共享开着，对方正在指挥他往一个账户里汇款，柜员正在拖延",
        {FR},
        "critical",
    ),
    ("阿婆讲伊拨人家骗去三万块铜钿，对方讲是伊孙子出车祸要赔钱", {FR}, "high"),
    ("王大伯收到儿子微信借钱，他打视频给儿子确认是本人，钱已经转过去了", set(), None),
    ("楼下超市老板说有个自称部队采购的人要订300箱矿泉水，让他先垫付货款，他没理", {FR}, "medium"),
    ("楼道里一辆电动车插着电充，旁边还堆了好几袋建筑垃圾，上下楼要绕着走", {BX, EB}, "high"),
    ("仓库电线老化外皮开裂，墙上的灭火器也过期两年了", {EQ, WR}, "medium"),
    ("检查结果：飞线充电 0处；楼道堆物 0处；灭火器 完好", set(), None),
    ("3楼走廊电动车在充电，当场让车主拔了插头推到楼下充电棚", {EB}, "low"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), FRESH)
def test_fresh_wordings(classify, text, expected, severity):
    check(classify, text, expected, severity)
