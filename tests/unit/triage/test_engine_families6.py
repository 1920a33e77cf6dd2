"""Sixth round of families: the classes behind blind6's misses, probed with texts of my own.

blind6 was scored once (0.926 / 0.926 / 0.818 / 0.868). Each of its misses was read for the class of
wording it belongs to (an object's other name, a state verb, a scope rule, a severity cue, a fraud
script), and the class was added to rules.yaml (comments ``round6:``) with the variants an unseen
writer would use. No text here is taken from a data set. Negative probes check that the widenings
leave the no-finding traps clean (negations, fixes done earlier, publicity, drills, pile requests,
verified calls). ``test_fresh_wordings`` was written after the rules, as a check of the classes on
new variants; it found two gaps (a bare rented room, a victim shut in a hotel room), since closed.
"""

from __future__ import annotations

import pytest

from tests.unit.triage.conftest import BX, EB, EQ, FR, WR, codes


# ---- E-bikes by a bare brand (小牛, 九号, 雅迪), Wu 电瓶脚踏车 and homophones (店屏车, 点平车);
# 九号楼/九号 as a date and 小牛肉 are not bikes.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("楼道拐角两台小牛插着充电", {EB}, "high"),
        ("一楼大堂停着一辆九号在充电", {EB}, "high"),
        ("租户把雅迪推进房间里充电", {EB}, "high"),
        ("隔壁老王的电瓶脚踏车天天在楼梯下面充电", {EB}, "high"),
        ("3楼走廊一台店屏车在冲电", {EB}, "high"),
        ("过道里有辆点平车插着电", {EB}, "high"),
        ("九号楼楼道畅通，未发现充电", set(), None),
        ("九号晚上巡查，楼道没有电动车充电", set(), None),
        ("小牛肉面馆门口排队的人很多", set(), None),
    ],
)
def test_ebike_names(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- The charge verb fused with the battery (充电瓶, 充电池), 冲电器, the typo 电平; phones and
# legal sheds are not hazards.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("出租屋里有人在充电瓶", {EB}, "high"),
        ("宿舍床边插着冲电器在充两块锂电池", {EB}, "high"),
        ("外卖小哥把电平拎到店里后厨充", {EB}, "high"),
        ("店员在收银台给手机充电", set(), None),
        ("楼下充电棚里充电瓶，排队的人多", set(), None),
    ],
)
def test_fused_battery(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A cable thrown out of a window (甩出, 甩了根线下来) to a bike outside: medium.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("5楼窗口甩出一根线，给楼下的电驴充电", {EB}, "medium"),
        ("二楼阳台甩了根线下来给电瓶车充", {EB}, "medium"),
    ],
)
def test_window_cable(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Wu lanes and stairs as escape routes (弄堂口, 备弄, 扶梯下头) and Wu "cannot pass" (过弗去,
# 进弗来).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("弄堂口被人家搭了个棚，人过弗去", {BX}, "medium"),
        ("唯一的出口弄堂被旧家具堵牢了", {BX}, "high"),
        ("扶梯下头堆满了纸板箱", {BX}, "medium"),
        ("扶梯下头一部电瓶车插着电在充", {EB}, "high"),
        ("弄堂里清清爽爽，啥也呒没堆", set(), None),
    ],
)
def test_wu_routes(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Stacked to the top (码到顶, 堆到天花板, 摞到顶); a stack in a store room with the way open
# is not.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("仓库的安全出口被货箱码到顶了", {BX}, "medium"),
        ("疏散通道里纸箱堆到天花板", {BX}, "medium"),
        ("后门那边啤酒箱摞到顶，门都推不开", {BX}, "medium"),
        ("纸箱码到顶，放在仓库里面，通道是通的", set(), None),
    ],
)
def test_stacked_to_top(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A venue's doors counted (两个门, 三个门, 两道门) are its exits; one of them blocked or
# locked.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("托管班三个门，一个被桌子堵住，另外两个是通的", {BX}, "medium"),
        ("网吧两道门，其中一道锁着，里面有三十几个人在上网", {BX}, "critical"),
        ("店里两个门都开着，进出方便", set(), None),
    ],
)
def test_counted_doors(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A lock hung on the door (挂了把锁, 挂着一把大锁, 常年锁着); critical with people inside.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("晚上九点，服装厂后门挂了把锁，车间里二十多个工人在加班", {BX}, "critical"),
        ("宿舍楼安全出口挂着一把大锁，楼上住着人", {BX}, "critical"),
        ("培训机构安全出口常年锁着，周末没人", {BX}, "medium"),
        ("安全出口那把锁已经拆掉了，复查门是开的", set(), None),
    ],
)
def test_hung_lock(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Parked in a fire lane said in Wu or for long (停牢, 长期停着); 没牌照/无牌 describe the
# car, they negate nothing.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("消防车道上停牢一部货车，好几天了", {BX}, "medium"),
        ("消防通道被一辆没牌照的面包车占了", {BX}, "medium"),
        ("小区消防车道长期停着一辆无牌车，消防车进弗来", {BX}, "medium"),
        ("车位被一辆没牌照的车占了，没法停车", set(), None),
    ],
)
def test_parked_dialect(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Equipment covered or taped (盖着, 缠着胶带, 罩了) and failing when tried (亮不了, 响不了,
# 拉不出来).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("包厢里的烟感上盖着一个纸杯", {EQ}, "medium"),
        ("走廊喷淋头被人缠着胶带", {EQ}, "medium"),
        ("应急灯测试了一下，6盏里有3盏亮不了", {EQ}, "medium"),
        ("手动报警按钮按下去响不了", {EQ}, "medium"),
        ("消防栓的水带拉不出来", {EQ}, "medium"),
        ("应急灯都亮了，测试正常", set(), None),
    ],
)
def test_covered_equipment(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A fix by replacement (补上, 补齐) is a fix; an order with a deadline (必须, 务必,
# 已告知负责人) is not.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("灭火器箱里少了一具，当场从仓库拿了新的补上", {EQ}, "low"),
        ("消火栓箱缺水带，已补齐", {EQ}, "low"),
        ("安全出口上了锁，已告知负责人明天之前必须打开", {BX}, "medium"),
        ("楼道堆了杂物，告知房东务必本周清理", {BX}, "medium"),
    ],
)
def test_fix_and_order(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- None at all counted with any measure word, in Mandarin or Wu (一户也呒没, 一处也冇,
# 一家都没有).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("挨家挨户看过了，屋里充电的一户也呒没", set(), None),
        ("飞线充电一根都没看到，私拉电线一处也冇", set(), None),
        ("三幢楼走了一遍，楼道里充电的一家都没有", set(), None),
    ],
)
def test_zero_tally(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A campaign summed up as "basically cleared" (基本清理完毕, 基本整改到位) reports nothing now.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("物业季度小结：各楼道堆物基本清理完毕；电动车都进了车棚", set(), None),
        ("整治行动以来，沿街店铺私拉电线已基本整改到位", set(), None),
        ("今天巡查发现楼道堆物，当场督促清理完毕", {BX}, "low"),
    ],
)
def test_campaign_summary(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Proper wiring (正规接的, 漏电保护, 走了线槽, 穿了管) is not a fault; a lamp holder that
# feeds an e-bike cable is its source.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("摊位的电从配电箱正规接的，有漏电保护，线走了线槽", set(), None),
        ("店里新装了漏电保护器，电线都穿了管", set(), None),
        ("租户把电瓶车推进屋里充，线是从楼道灯头上接出来的", {EB}, "high"),
        ("楼道灯头上私接了一根线给空调用", {WR}, "medium"),
    ],
)
def test_proper_wiring(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A cable pulled across from a neighbour or between buildings (牵了一根电线过来, 吊过去), in
# the rain.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("房东从隔壁厂里牵了一根电线过来给出租房用", {WR}, "medium"),
        ("两幢楼之间吊过去一根电线，下雨天还滴水", {WR}, "medium"),
    ],
)
def test_pulled_across(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- An electric car in one clause and its cable from a window in the next: ILLEGAL_WIRING.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("车库门口一台特斯拉，线从三楼窗户拉下来在充", {WR}, "medium"),
        ("楼下一辆新能源车，电线从二楼窗户吊下来，正在充电", {WR}, "medium"),
        ("小区新装的汽车充电桩都在正常使用", set(), None),
    ],
)
def test_ev_cable(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A claimed identity said with its verb (冒充公安, 冒充快递客服), even when the call was hung
# up (已挂).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("6幢王阿姨接到冒充公安的电话，已挂", {FR}, "medium"),
        ("有人冒充快递客服给老李打电话说要理赔，他挂了", {FR}, "medium"),
        ("社区开展反诈宣传，讲解冒充公安的骗局", set(), None),
    ],
)
def test_fraud_claim(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- The flight-cancellation script (退票改签, 改签赔偿).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("张先生收到短信说航班取消了，要他加客服办退票改签，他没理", {FR}, "medium"),
        ("我妈被所谓航空公司客服以改签赔偿为名骗了两千", {FR}, "high"),
    ],
)
def test_fraud_flight(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- In progress: the screen already black, a 'national' or 'safe' account by other names, a
# second payment being prepared, the payment page still open, shut in a hotel room on a video
# call.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("老人手机屏幕已经黑了，对方还在电话里让他别挂", {FR}, "critical"),
        ("大爷在电话里被要求把钱转到国家的账户核查，现在正在操作", {FR}, "critical"),
        ("她已经转了五千，还在准备转第二笔，对方开着飞书会议", {FR}, "critical"),
        ("学生在扫码给“游戏客服”交保证金，付款页面还开着", {FR}, "critical"),
        ("宾馆里一位老人说“公安”让他单独开房隔离配合调查，一直在接视频", {FR}, "critical"),
    ],
)
def test_fraud_in_progress(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Paid, then the scammer gone (转完人就找不到了, 付完就联系不上了): a loss.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("他听“部队采购”的话先转了五千定金，转完人就找不到了", {FR}, "high"),
        ("对方说是老同学借钱，付完就联系不上了", {FR}, "high"),
    ],
)
def test_fraud_loss(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- A caller verified by video (是他本人) and a courier taken for a scammer
# (以为他是骗子…正常签收): no fraud.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("儿子发微信说换了号要钱，我打视频过去，是他本人，手机真的丢了", set(), None),
        ("快递员说有个客户以为他是骗子，不肯给取件码，后来打官方客服核实，正常签收", set(), None),
    ],
)
def test_fraud_not(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Blocked in other senses: laundry, sunlight.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("邻居的电瓶车停在我家门口院子里，挡住我晾衣服", set(), None),
        ("对面违建挡住阳光，家里一天到晚晒不到太阳", set(), None),
    ],
)
def test_other_blocked(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Traditional characters beyond the old table (軟, 載, 遞, 丟…).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("有人打電話說我的快遞丟了要理賠，讓我下載一個會議軟件，我沒下", {FR}, "medium"),
        ("樓梯間裡兩輛電動車在充電，過道全堵滿了雜物", {BX, EB}, "high"),
        ("走廊的應急燈壞掉，滅火器壓力不夠", {EQ}, "medium"),
    ],
)
def test_traditional(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Traps for the widenings: fixed earlier, drills, publicity, pile requests, negations, a
# verified call, a broken lamp holder.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("复查：上月弄堂口搭的棚已拆除，现在畅通", set(), None),
        ("消防演练模拟后门挂了把锁，员工从另一个出口疏散", set(), None),
        ("反诈宣传：冒充公安说你涉嫌洗钱、让你开房隔离的都是骗子", set(), None),
        ("讲座上民警讲了屏幕已经黑了怎么办：马上关机拔卡", set(), None),
        ("居民希望在弄堂口装几个充电桩，小牛九号都能充", set(), None),
        ("扶梯下头清清爽爽，未发现电瓶车充电", set(), None),
        ("之前楼道里小牛充电的那户，今天复查已经不充了", set(), None),
        ("楼道没有堆物，安全出口没有上锁，灭火器没有过期", set(), None),
        ("来电人询问电瓶脚踏车在自家院子里充电会不会被罚款", set(), None),
        ("九号楼东侧消防车道畅通", set(), None),
        ("烟感头上盖着的塑料杯，上周已经拿掉了，复查正常", set(), None),
        ("应急灯放电测试，12盏全部能亮", set(), None),
        ("居民说他收到的航班取消短信是真的，打航空公司官方电话核实了", set(), None),
        ("灯头坏了，楼道声控灯不亮，请物业来修", set(), None),
    ],
)
def test_traps(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- The same words when the hazard is back or fixed on the spot.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("复查发现弄堂口又搭了棚，堆满煤饼炉", {BX}, "medium"),
        ("上周提醒过的那户，今天小牛又推进屋里充电了", {EB}, "high"),
        ("烟感头上盖着塑料杯，当场拿掉了", {EQ}, "low"),
    ],
)
def test_traps_positive(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity


# ---- Fresh variants of every class above, written after the rules (see the module docstring).
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("楼梯口一台爱玛插着充电器", {EB}, "high"),
        ("车棚不够，有人把小牛的电池拿回家里充", {EB}, "high"),
        ("隔壁出租屋在充电池，味道很大", {EB}, "high"),
        ("四楼窗户甩下来一根插线板，楼下电驴在充", {EB}, "medium"),
        ("备弄里堆满了柴火，人都过不去", {BX}, "medium"),
        ("老墙门唯一的弄堂口被三轮车和纸板堵死了", {BX}, "high"),
        ("疏散楼梯的平台上货物码得满满的", {BX}, "medium"),
        ("KTV两扇门，一扇被酒箱堵住，一扇锁着，里面正在营业", {BX}, "critical"),
        ("宿舍楼后门挂着一把锁，工人都在里面睡觉", {BX}, "critical"),
        ("消防通道停牢一部三轮车", {BX}, "medium"),
        ("烟雾报警器上罩了一个塑料袋", {EQ}, "medium"),
        ("按了手动报警按钮，警铃响不起来", {EQ}, "medium"),
        ("楼道应急灯拔了插头就亮不了", {EQ}, "medium"),
        ("一楼的灭火器不见了，当场从仓库拿了两具补上", {EQ}, "low"),
        ("宿舍走廊安全出口锁着，已告知宿管今晚之前必须打开", {BX}, "medium"),
        ("整栋楼看了一遍，飞线一根也冇，楼道里电瓶车一辆都呒没", set(), None),
        ("物业半年总结：消防通道占用基本整改到位", set(), None),
        ("新装的空调线走了线槽，插座有漏电保护", set(), None),
        ("村民从邻居家牵了根电线过来给鱼塘的增氧泵用", {WR}, "medium"),
        ("小区门口一辆比亚迪在充电，电线是从一楼窗户吊出来的", {WR}, "medium"),
        ("刚才有人冒充社保局给我打电话，我直接挂了", {FR}, "medium"),
        ("阿姨手机屏幕一下黑了，对方还让她别挂电话", {FR}, "critical"),
        ("他按对方说的把钱转到“安全的账户”，已经转了一笔还在准备转第二笔", {FR}, "critical"),
        ("老人一个人关在宾馆房间里接视频，说是配合“警察”调查", {FR}, "critical"),
        ("付完八千定金，对方人就联系不上了", {FR}, "high"),
        ("侄子说换了号借钱，我打视频确认是他本人，没事", set(), None),
        ("違建擋住陽光，家裡白天也要開燈", set(), None),
        ("地下室裡有人給電瓶車充電，樓梯口還堆著紙箱", {BX, EB}, "high"),
    ],
)
def test_fresh_wordings(classify, text, expected, severity):
    t = classify(text)
    assert codes(t) == expected
    assert t.severity == severity
