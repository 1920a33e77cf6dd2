"""Fraud indicators: what counts, what must not, and what may be shown."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.escalation import indicators as _indicators
from streams.escalation.indicators import (
    Indicator,
    extract_indicators,
    indicator_digest,
    masked,
)

KEY = b"k" * 32


def phone(value: str) -> Indicator:
    return Indicator("phone", value)


def account(value: str) -> Indicator:
    return Indicator("bank_account", value)


def link(value: str) -> Indicator:
    return Indicator("link", value)


@pytest.mark.parametrize(
    "text",
    [
        "骗子电话13812345678",
        "对方打的138-1234-5678，说是客服",
        "号码138 1234 5678",
        "来电+86 138 1234 5678",
        "来电+8613812345678",
        "来电8613812345678",
        "来电0086-138-1234-5678",
        "电话：１３８１２３４５６７８",  # full-width digits
        "电话１３８－１２３４－５６７８",  # full-width dashes too
    ],
)
def test_mobile_forms_normalise_to_eleven_digits(text):
    assert extract_indicators(text) == (phone("13812345678"),)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("座机0574-87654321打来的", "0574-87654321"),
        ("座机057487654321打来的", "0574-87654321"),
        ("座机(0574)87654321", "0574-87654321"),
        ("座机0574 8765 4321", "0574-87654321"),
        ("上海的021-62345678", "021-62345678"),
        ("北京010-6234567来电", "010-6234567"),
    ],
)
def test_landlines_keep_their_area_code(text, value):
    assert extract_indicators(text) == (phone(value),)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("冒充客服4001234567", "4001234567"),
        ("冒充客服400-123-4567", "4001234567"),
        ("冒充客服400 1234 567", "4001234567"),
        ("冒充客服800-820-8820", "8008208820"),
    ],
)
def test_400_and_800_numbers_are_indicators(text, value):
    assert extract_indicators(text) == (phone(value),)


@pytest.mark.parametrize(
    "text",
    [
        "已提醒居民拨打96110反诈专线",
        "工行客服95588核实过",
        "建行95533，农行95599",
        "有事打12345或者110",
        "3号楼2单元501室，2个灭火器过期",
    ],
)
def test_hotlines_and_short_numbers_are_not_indicators(text):
    assert extract_indicators(text) == ()


def test_a_hotline_next_to_a_scam_number_leaves_only_the_scam_number():
    text = "对方自称95588客服，用13812345678打来，让转到安全账户"
    assert extract_indicators(text) == (phone("13812345678"),)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("转到6222021234567890", "6222021234567890"),  # 16
        ("转到62220212345678901", "62220212345678901"),  # 17
        ("转到6217000012345678901", "6217000012345678901"),  # 19
        ("卡号6222 0212 3456 7890", "6222021234567890"),
        ("卡号6222-0212-3456-7890", "6222021234567890"),
        ("卡号6217 0000 1234 5678 901", "6217000012345678901"),
        ("卡号６２２２０２１２３４５６７８９０", "6222021234567890"),
    ],
)
def test_bank_accounts_of_16_to_19_digits(text, value):
    assert extract_indicators(text) == (account(value),)


@pytest.mark.parametrize(
    "text",
    [
        "转到622202123456789",  # 15 digits
        "订单号12345678901234567890",  # 20 digits
    ],
)
def test_numbers_too_short_or_long_for_a_card_are_not_accounts(text):
    assert extract_indicators(text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "受害人身份证330203199001011234",
        "身份证号33020319900101123X",
        "身份证号33020319900101123x。",
        "身份证号１３０１０２２００００２２９１２３４",  # full width, 29 Feb 2000
    ],
)
def test_resident_id_numbers_are_not_bank_accounts(text):
    assert extract_indicators(text) == ()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # Same shape as an ID number, but no such birth date: an 18-digit account.
        ("卡号330203199013011234", "330203199013011234"),
        ("卡号130102200102291234", "130102200102291234"),  # 29 Feb 2001
        ("卡号330203180001011234", "330203180001011234"),  # born 1800
        ("卡号930203199001011234", "930203199001011234"),  # no province 9x
    ],
)
def test_18_digits_without_a_plausible_birth_date_are_accounts(text, value):
    assert extract_indicators(text) == (account(value),)


def test_id_number_and_card_in_one_report():
    text = "老人身份证330203195005051234，被骗转到6222021234567890"
    assert extract_indicators(text) == (account("6222021234567890"),)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("点了链接https://Evil-Bank.TOP/Pay/AbC9", "evil-bank.top/Pay/AbC9"),
        ("点了链接http://evil-bank.top/", "evil-bank.top"),
        ("网址www.Abc-Pay.com", "abc-pay.com"),
        ("网址WWW.ABC-PAY.COM/login", "abc-pay.com/login"),
        ("网址www.abc-pay.shop", "abc-pay.shop"),  # any TLD after www.
        ("下载fake-app.vip看看", "fake-app.vip"),
        ("下载fake.xyz/d/123", "fake.xyz/d/123"),
        ("官网abc.com.cn", "abc.com.cn"),
        ("http://1.2.3.4:8080/x", "1.2.3.4:8080/x"),
        ("链接https://t.cn/A6xYz?from=sms&uid=998#top", "t.cn/A6xYz"),
        ("网址ｗｗｗ．ａｂｃ．ｃｏｍ", "abc.com"),
    ],
)
def test_links_normalise_to_lowercase_host_and_path(text, value):
    assert extract_indicators(text) == (link(value),)


@pytest.mark.parametrize(
    "text",
    [
        "点开https://evil.top/pay，输入了密码",
        "点开https://evil.top/pay，3分钟后黑屏",  # "，" would be "," after NFKC
        "点开https://evil.top/pay！OK",
        "点开https://evil.top/pay）2次",
        "点开https://evil.top/pay：abc",
        "点开https://evil.top/pay。然后黑屏了",
        "点开https://evil.top/pay！",
        "（https://evil.top/pay）",
        "点开https://evil.top/pay、还有",
        "点开https://evil.top/pay领取红包",
        "见 https://evil.top/pay.",
        "见 (https://evil.top/pay), 然后",
        '链接"https://evil.top/pay"',
    ],
)
def test_a_link_ends_at_punctuation_and_chinese_text(text):
    assert extract_indicators(text) == (link("evil.top/pay"),)


@pytest.mark.parametrize(
    "text",
    [
        "联系邮箱service@qq.com",  # an e-mail address is not a link
        "体温36.5度，用了2.5小时",
        "文件report.pdf和photo.jpg",
        "网址abc.community",  # not a TLD we know: bare domains need one
    ],
)
def test_not_links(text):
    assert extract_indicators(text) == ()


def test_a_number_inside_a_link_is_part_of_the_link():
    assert extract_indicators("打开http://x.top/13812345678") == (link("x.top/13812345678"),)


def test_deduplicated_in_order_of_first_appearance():
    text = (
        "先是www.evil.top发来链接，又用138-1234-5678打来，让转账到6222 0212 3456 7890；"
        "后来又用13812345678打，还发https://evil.top，最后0574-87654321也打来"
    )
    assert extract_indicators(text) == (
        link("evil.top"),
        phone("13812345678"),
        account("6222021234567890"),
        phone("0574-87654321"),
    )


def test_text_without_indicators():
    assert extract_indicators("3号楼楼道里有电瓶车在充电，已劝离") == ()


def test_digest_is_stable_and_32_hex_chars():
    first = indicator_digest(phone("13812345678"), KEY)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert indicator_digest(phone("13812345678"), KEY) == first


def test_the_same_number_however_written_has_one_digest():
    digests = {
        indicator_digest(i, KEY)
        for text in ("13812345678", "+86 138-1234-5678", "１３８ １２３４ ５６７８")
        for i in extract_indicators(text)
    }
    assert len(digests) == 1


def test_digest_depends_on_key_value_and_kind():
    base = indicator_digest(phone("13812345678"), KEY)
    assert indicator_digest(phone("13812345678"), b"x" * 32) != base
    assert indicator_digest(phone("13812345679"), KEY) != base
    assert indicator_digest(Indicator("bank_account", "13812345678"), KEY) != base


def test_digest_does_not_contain_the_number():
    assert "13812345678" not in indicator_digest(phone("13812345678"), KEY)


def test_digest_refuses_an_empty_key():
    with pytest.raises(ValueError, match="empty key"):
        indicator_digest(phone("13812345678"), b"")


@pytest.mark.parametrize(
    ("indicator", "shown", "hidden"),
    [
        (phone("13812345678"), "138****5678", "1234"),
        (phone("4001234567"), "400****4567", "123"),
        (phone("0574-87654321"), "0574-****21", "876543"),
        (phone("010-6234567"), "010-****67", "62345"),
        (account("6222021234567890"), "****7890", "622202123456"),
        (account("6217000012345678901"), "****8901", "621700001234567"),
        (link("evil.top/pay/tok3n"), "evil.top/…", "tok3n"),
        (link("evil.top:8080/p"), "evil.top/…", "8080"),
        (link("evil.top"), "evil.top", "/"),
    ],
)
def test_masked_shows_only_the_ends(indicator, shown, hidden):
    assert masked(indicator) == shown
    assert hidden not in masked(indicator)


def test_masking_every_extracted_number_hides_its_middle():
    found = extract_indicators("13812345678 0574-87654321 4001234567 6222021234567890123")
    assert len(found) == 4
    for indicator in found:
        digits = re.sub(r"[^0-9]", "", indicator.value)
        assert digits[4:-4] not in re.sub(r"[^0-9]", "", masked(indicator))


_PIECES = st.sampled_from(
    ["网格员", "楼道", "骗子", "电话", "转账", "，", "。", " ", "-", "+86", "0574", "138", "1234",
     "5678", "400", "6222", "0", "7", "．", "１", "３", "⑩", "ｗｗｗ", "www", ".", "/", ":", "http",
     "evil", "top", "com", "x", "Ｘ", "²", "㎞", "e\u0301", "\u2488"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_the_quick_check_never_loses_an_indicator(text):
    """The cheap pre-check only skips texts where the full extraction finds nothing."""
    full = _indicators._full_extraction(text)
    assert extract_indicators(text) == full
    if full:
        assert _indicators._may_hold_one(text)


def test_routine_reports_skip_the_full_extraction():
    assert not _indicators._may_hold_one("3号楼2单元楼道里有电瓶车在充电，已劝离，共2辆")
    assert _indicators._may_hold_one("加他微信，号码１３８１２３４５６７８")  # full-width digits
    assert _indicators._may_hold_one("点开evil.top")
