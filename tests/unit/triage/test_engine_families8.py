"""Eighth round of families: the classes behind blind8's misses, probed with texts of my own.

blind8 was scored once (0.888 / 0.885 / 0.842 / 0.805). Each miss was read for its class (a
look-alike that fired, an order or a persuasion read as a fix, a state said by its symptom, a
severity cue, a fraud script), and the class was widened in rules.yaml (comments ``round8:``)
with the variants an unseen writer would use. No text here is taken from a data set; each test
has texts the rule must get right and traps it must not fire on. ``test_fresh_wordings`` was
written after the widening and run once before any further fix: 26 of its 30 texts were right
first time (see its comment; the four classes are now closed).
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


# ---- All clear said as "none whatsoever" (无任何/没有任何) or as a tally of zero for a list of
# items (均0, 均为零); a real finding beside it still counts.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("经住户清理，二单元楼道已没有任何杂物堆放", set(), None),
        ("走廊内无任何电动车停放充电", set(), None),
        ("7#楼 堆物/飞线/楼道充电 均为0", set(), None),
        ("检查项：消防通道、疏散楼梯、飞线 全部为零", set(), None),
        ("3幢楼道堆物 均0 5幢楼道电瓶车在充电", {EB}, "high"),
        ("楼道没有任何照明，应急灯也不亮", {EQ}, "medium"),
    ],
)
def test_all_clear(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Look-alikes that fired: handouts and talks naming scam types, drills said as exercises,
# a technician's or a class's screen sharing, a machine that kept the money, aftercare of an old
# victim, a motorway exit, a gas alarm, a car that would not start, a phone board's jumper wire.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("在菜场门口派发反诈传单，讲了冒充公检法和刷单两种", set(), None),
        ("给小区老人发防骗手册，志愿者讲解了安全账户、屏幕共享这些词", set(), None),
        ("消防队夜间拉练，科目是楼道被堵情况下的疏散引导", set(), None),
        ("帮社区老人调试手机上的视频会议软件，方便她下周上网课", set(), None),
        ("电脑师傅用向日葵远程帮单位重装系统", set(), None),
        ("洗衣房的机器投币后不出水还吞币，老板电话打不通", set(), None),
        ("电动车充电桩扫码扣了费不出电，平台客服也不回", set(), None),
        ("回访去年受骗的张大爷，他说最近没再接到可疑电话", set(), None),
        ("早高峰绕城高速出口堵了三公里", set(), None),
        ("可燃气体报警器响了，查下来是燃气软管老化漏气，已换", set(), None),
        ("冬天汽车电瓶亏电打不着火，叫了搭电", set(), None),
        ("修手机的说主板要飞线，问我要不要修", set(), None),
        # traps: the real thing beside the look-alike
        ("帮我爸调试手机时发现他开着屏幕共享，对方正让他转钱到安全账户", {FR}, "critical"),
        ("夜里巡查发现消防通道被三辆车堵死，消防车进不来", {BX}, "medium"),
    ],
)
def test_look_alikes(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Orders are not fixes: an inspection form's "整改要求：立即…", "要求立即…", persuasion
# ("已劝说"); removal by hand and a door shut again are fixes on the spot.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("隐患描述：2号楼一层楼梯间堆放纸箱。整改要求：立即清理。责任主体：物业", {BX}, "medium"),
        ("隐患描述：仓库灭火器压力不足。整改意见：立即更换", {EQ}, "medium"),
        ("网吧后门安全出口上锁，现场有上网人员30余人，要求立即打开", {BX}, "critical"),
        ("走廊里一台电瓶车在充电，已劝说车主，车主说晚上再挪", {EB}, "high"),
        ("防火门下面卡了个木楔，当场拿掉，门已闭合", {BX}, "low"),
        ("安全出口指示灯不亮，检查是插头掉了，当场插好，测试正常", {EQ}, "low"),
        ("走廊堆了几箱货，当场让店员搬走了", {BX}, "low"),
        ("巡查发现疏散楼梯堆满建材，要求施工方立即整改", {BX}, "medium"),
        ("楼道堆放旧家具，房东已立即整改到位", {BX}, "low"),
    ],
)
def test_orders_and_fixes(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Still there on the re-check, said as untouched or as a different bike; cleared earlier is
# still nothing.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("复查上月反映的楼道堆放旧家具问题，家具原封不动，还多了两袋垃圾", {BX}, "medium"),
        ("跟进上次报的楼道充电，这次车子换了，还是在楼道插着充", {EB}, "high"),
        ("复查：上周报的楼道杂物已清理干净", set(), None),
    ],
)
def test_still_there(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Severity: a night patrol, the single stair said tersely or officially, a shop's only
# roller-shutter door, a stair landing or the space under a stair.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("夜查 城中村出租楼 单楼梯 2F梯下电动车充电中 楼上住了十几个人", {EB}, "critical"),
        (
            "夜巡发现某群租房仅设一部楼梯，三楼楼梯平台有电瓶车在充电，租户均在屋内",
            {EB},
            "critical",
        ),
        ("楼梯转角平台停着一辆电瓶车在充电", {EB}, "high"),
        ("修车铺只有一个卷闸门，晚上老板把门从外面锁上，伙计睡在里面", {BX}, "critical"),
    ],
)
def test_severity_cues(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Exits locked with what is at hand: a bike's own lock, wire wound round the handles, a
# lock put on from outside; a bike locked to a railing is not a locked exit.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("饭店后门的安全出口用一把自行车锁锁住了，店里正在营业，客人坐满", {BX}, "critical"),
        ("歌厅侧门安全出口把手被铁丝绑死，包厢里有客人", {BX}, "critical"),
        ("厂房疏散通道的门被人从外面反锁了", {BX}, "medium"),
        ("楼道里一辆电瓶车用车锁锁在扶手上", set(), None),
    ],
)
def test_locked_exits(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- E-bikes: brands counted or bare, up-rated packs and a trial charge, batteries plugged into
# a strip, the rooms of a partitioned rental; a car named by its model is not an e-bike.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("楼梯下面一台极核插着在充", {EB}, "high"),
        ("二楼走廊横着一辆小刀，充电器挂在栏杆上", {EB}, "high"),
        ("路边修车店给电瓶车加装电芯，48V改成60V，当场在门口试充", {EB}, "medium"),
        ("隔断间里地上四块锂电池插在一个插线板上充", {EB}, "high"),
        ("群租房里租客把电瓶拎进屋充电", {EB}, "high"),
        ("邻居的五菱宏光mini停楼下，从三楼窗口垂一根线下来充电", {WR}, "medium"),
        ("楼上小伙子的Model 3没有桩，天天从家里拉插线板到车位充", {WR}, "medium"),
        ("小刀切菜不小心划了手", set(), None),
    ],
)
def test_ebikes(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Wiring: one strip feeding a bike and an appliance, insulation that crumbles, a fuse
# bridged with copper wire; an e-bike's own cable lying on the floor or in water is part of the
# e-bike finding, other cables lying there are wiring hazards.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("从一楼窗户拉出一个插线板，一头给电动车充电，另一头接着门口的冰柜", {EB, WR}, "medium"),
        ("老房子厨房的电线一碰就碎，里面的铜线都看得见", {WR}, "medium"),
        ("房东嫌空开老跳，拿铜丝代替保险丝接上了", {WR}, "medium"),
        ("楼道里一辆电动车在充电，接线板拖在地上", {EB}, "high"),
        ("楼下电瓶车在充电，充电线从二楼窗口吊下来泡在积水里", {EB}, "medium"),
        ("大排档的电线拖在地上，泡在积水里", {WR}, "medium"),
    ],
)
def test_wiring(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Fire equipment: a sprinkler valve shut, a pump stopped or on manual, a gauge at zero, a
# system that does nothing; an exit sign described by its look.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("泵房检查：喷淋泵控制柜打在手动位，消防水泵处于停止状态", {EQ}, "medium"),
        ("3#楼湿式报警阀的信号阀关闭，整个喷淋系统形同虚设", {EQ}, "medium"),
        ("消火栓压力表读数为0", {EQ}, "medium"),
        ("二楼灭火器的指针归零了", {EQ}, "medium"),
        ("走廊尽头那个绿色小人牌好几天不亮了", {EQ}, "medium"),
        ("喷淋系统压力表读数0.35MPa，稳压泵自动运行正常", set(), None),
    ],
)
def test_equipment(classify, text, expected, severity):
    check(classify, text, expected, severity)


# ---- Fraud: quant-trading apps and live-stream cures; money gone said by what did not come back
# or arrive; a sum the scammer had them send; touts; the victim still at the venue or on a
# headset; the scammer still pressing for more is critical even after a first loss.
@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        ("我妈被拉进一个量化交易群，老师让她先往平台充3万，她还没充", {FR}, "medium"),
        ("老爸在直播间买了号称能根治高血压的药，付了2800，货一直没收到，店铺关了", {FR}, "high"),
        ("找网上代办贷款的，收了我800服务费，人就不见了，钱要不回来", {FR}, "high"),
        ("冒充快递的让我转了500理赔保证金，后来发现是假的", {FR}, "high"),
        (
            "酒吧收银员说有个小伙被网友带来点了一瓶上万的酒，怀疑是酒托，人还在店里",
            {FR},
            "critical",
        ),
        ("我已经给“客服”转了3000，他还在催我转剩下的2000才能退款", {FR}, "critical"),
        (
            "银行柜台一位阿姨戴着耳机在跟人说话，要把20万转到一个投资平台，柜员暂停了业务",
            {FR},
            "critical",
        ),
        ("在网上买的保险退了，退款按正常流程原路退回", set(), None),
        # traps: in Wu 讲了 is "said", so the scam told after it still counts
        ("阿婆讲了伊拨人家骗脱两万块", {FR}, "high"),
        ("对方讲了要先交5000保证金才能放款", {FR}, "medium"),
        ("物业客服一直没收到我的报修，电话也打不通", set(), None),
    ],
)
def test_fraud(classify, text, expected, severity):
    check(classify, text, expected, severity)


@pytest.mark.xfail(
    strict=True,
    reason="known limit: a publicity sentence that also says 有个阿姨 (a 'found' word) keeps the "
    "scam types named in the talk; a bare 讲了 cannot mute them (in Wu it means 'said')",
)
def test_talk_with_a_listener(classify):
    check(classify, "发防骗传单时讲了刷单、冒充客服几种，有个阿姨说回去讲给老伴听", set(), None)


# ---- Written after the widening, run once before any further fix: 26/30 right first time (a
# tally "以上均为0处" after a space, a car-wash machine that kept the money "不出水", an order
# "要求物业立即整改" read as a fix, a pack "改了72V"; all four classes are now closed).
FRESH: list[CASES] = [
    ("楼道堆物、飞线充电、私拉电线 以上均为0处", set(), None),
    ("本栋走道现已无任何杂物，感谢各位住户配合", set(), None),
    ("反诈志愿者在地铁口发反诈扇子，顺便讲了冒充客服退款的骗法", set(), None),
    ("街道微型消防站开展实战拉练，模拟安全出口被堵情况下的破拆", set(), None),
    ("网课老师让学生都打开屏幕共享交作业", set(), None),
    ("小区门口的自助洗车机扫码付了钱不出水，客服电话一直占线", set(), None),
    ("下班晚高峰，城区高架下匝道口堵成一锅粥", set(), None),
    ("早上车子打不着火，4S店说是汽车电瓶老化", set(), None),
    (
        "隐患描述：KTV营业中（包厢内顾客约40人），2号安全出口被铁链锁闭。整改要求：立即打开。",
        {BX},
        "critical",
    ),
    ("检查发现消防水泵控制柜处于手动状态，不能自动启动，要求物业立即整改", {EQ}, "medium"),
    ("楼梯间的防火门被一块砖头顶着，当场把砖头拿开，门已关好", {BX}, "low"),
    ("三单元楼道电动车在充电，已口头劝说", {EB}, "high"),
    ("上次报的消防通道被私家车占用问题，今天去看车还停在原地，一点没动", {BX}, "medium"),
    ("0130 夜查 城西出租楼 单楼梯 3F楼梯口电驴充电 楼内住了二十多人", {EB}, "critical"),
    ("老旧小区只有一个楼梯，凌晨两点二楼梯下有电瓶车在充电，住户都在睡觉", {EB}, "critical"),
    ("小超市只有一个铁门，老板晚上从外面锁上门，店员住在里面的阁楼", {BX}, "critical"),
    ("面馆后门安全出口被一把电动车锁锁着，店里吃面的坐满了", {BX}, "critical"),
    ("楼梯拐角平台停着一辆雅迪在充电", {EB}, "high"),
    ("出租屋隔间里租客把三块电池并排插在插线板上充", {EB}, "high"),
    ("车行给外卖小哥的车改了72V大电池，在店门口试充电", {EB}, "medium"),
    ("邻居的特斯拉Model Y没装桩，从一楼窗户拉了根线出来充电", {WR}, "medium"),
    ("二楼窗口吊下一个插线板，一头给楼下电瓶车充电，另一头还接着门口的灯箱", {EB, WR}, "medium"),
    ("楼下电动车在充电，拖线板泡在雨水里", {EB}, "medium"),
    ("出租房的电线外皮一碰就裂，里面还是铝线", {WR}, "medium"),
    ("稳压泵压力表读数为零，喷淋系统不起作用", {EQ}, "medium"),
    ("疏散通道上那个写着安全出口的绿牌子不亮了", {EQ}, "medium"),
    ("我爸在群里跟着老师做AI量化，已经投进去8万，现在提现不了", {FR}, "high"),
    ("网上找人代办信用卡，交了600手续费，对方再没回过消息，钱也回不来了", {FR}, "high"),
    (
        "奶茶店老板说有个大叔被网上认识的女朋友带来，点了几千块的东西，怀疑是饭托，人还在店里",
        {FR},
        "critical",
    ),
    ("我已经转了两万给“公安”，他还在线上催我把剩下的钱转进安全账户", {FR}, "critical"),
]


@pytest.mark.parametrize(("text", "expected", "severity"), FRESH)
def test_fresh_wordings(classify, text, expected, severity):
    check(classify, text, expected, severity)
