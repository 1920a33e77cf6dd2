import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import pii
from schemas.pii import mask_phone, mask_pii_text


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("电话13812345678", "13812345678"),
        ("电话 138-1234-5678 联系", "1234"),
        ("+86 138 1234 5678", "1234"),
        ("身份证号330203199001011234", "19900101"),
        ("身份证33020319900101123X。", "19900101"),
        ("老身份证330203900101123", "900101"),
        ("座机0574-87654321", "8765"),
    ],
)
def test_personal_numbers_in_text_are_masked(text, leaked):
    assert leaked not in mask_pii_text(text)


def test_text_without_numbers_is_untouched():
    text = "3号楼2单元楼道里电瓶车充电，5楼有人"
    assert mask_pii_text(text) == text


def test_short_numbers_that_are_not_phones_survive():
    assert mask_pii_text("3号楼2单元501室，2个灭火器过期") == "3号楼2单元501室，2个灭火器过期"


def test_mask_phone_keeps_prefix_and_last_four():
    assert mask_phone("138 1234 5678") == "138****5678"
    assert mask_phone("12345") == "*****"


def _substituted(text: str) -> str:
    """The three substitutions without the digit count in front of them."""
    text = pii._ID_NUMBER.sub(r"\1********\2", text)
    text = pii._MOBILE.sub(r"\1****\2", text)
    return pii._LANDLINE.sub(r"\1-****\2", text)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["0574", "8765", "4321", "138", "1", "0", "X", "-", " ", "+86", "楼", "３"]
        ),
        max_size=12,
    ).map("".join)
)
def test_counting_digits_first_changes_no_masked_text(text):
    assert mask_pii_text(text) == _substituted(text)


def test_the_shortest_maskable_number_is_a_ten_digit_landline():
    assert mask_pii_text("座机057-2345678") == "座机057-****5678"
    assert mask_pii_text("3号楼2单元501室，共9位数字123") == "3号楼2单元501室，共9位数字123"
