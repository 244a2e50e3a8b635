"""The one parser of typed numbers: exactly the number typed, or a reason; plain pytest, no Qt."""

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexdesk.ui import format as fmt

# (decimal point, group separator) of the locales the UI meets: en_US / C, de_DE, fr_FR, de_CH
LOCALES = ((".", ","), (",", "."), (",", "\u202f"), (".", "’"))


@pytest.mark.parametrize(("text", "expected"), [
    ("0.01", Decimal("0.01")),
    ("85000.1", Decimal("85000.1")),
    ("  0.5 ", Decimal("0.5")),
    (".5", Decimal("0.5")),
    ("5.", Decimal("5")),
    ("007", Decimal("7")),
    ("", None),
    ("   ", None),
])
def test_dot_decimal_numbers_read_as_typed(text, expected):
    assert fmt.parse_decimal(text, ".", ",") == expected


def test_comma_locale_reads_both_separators_as_the_decimal_point():
    # de_DE: decimal ",", group "."; the "0,01" must be 0.01 there, and "0.01" too.
    assert fmt.parse_decimal("0,01", ",", ".") == Decimal("0.01")
    assert fmt.parse_decimal("0.01", ",", ".") == Decimal("0.01")
    assert fmt.parse_decimal("85000,1", ",", ".") == Decimal("85000.1")


@pytest.mark.parametrize(("text", "reason"), [
    ("0,01", "',' is not accepted: use '.' for decimals, no thousands separators."),  # en_US: never 1 nor 0.01
    ("1,000", "',' is not accepted: use '.' for decimals, no thousands separators."),  # never 1 nor 1000
    ("-1", "Negative numbers are not accepted."),
    ("+1", "No '+' sign: type the number only."),
    ("1.5e-2", "Exponent form (e) is not accepted: type the number in full."),
    ("1e30", "Exponent form (e) is not accepted: type the number in full."),
    ("1E3", "Exponent form (e) is not accepted: type the number in full."),
    ("abc", "'a' is not a digit."),
    ("NaN", "'N' is not a digit."),
    ("Infinity", "'I' is not a digit."),
    ("1 000", "space is not accepted: use '.' for decimals, no thousands separators."),
    ("1.2.3", "More than one decimal separator: thousands separators are not accepted."),
    (".", "Not a number."),
    ("١٢", "'١' is not a digit."),  # Arabic-Indic digits: Decimal() would take them, the ticket does not
])
def test_everything_else_is_refused_with_a_reason(text, reason):
    with pytest.raises(fmt.NumberError) as info:
        fmt.parse_decimal(text, ".", ",")
    assert str(info.value) == reason


def test_comma_locale_refuses_a_dot_group_separator_used_with_the_comma():
    # de_DE "1.000,5": both are decimal separators here, so two of them is refused, not read as 1000.5 or 1.0005
    with pytest.raises(fmt.NumberError, match="More than one decimal separator"):
        fmt.parse_decimal("1.000,5", ",", ".")
    with pytest.raises(fmt.NumberError, match=re.escape("use ',' or '.' for decimals")):
        fmt.parse_decimal("1\u202f000", ",", "\u202f")


def test_input_text_writes_the_locale_decimal_point_and_no_grouping():
    assert fmt.input_text(Decimal("85000.1"), 1, ",") == "85000,1"
    assert fmt.input_text(Decimal("1234567.891"), 3, ".") == "1234567.891"
    assert fmt.input_text(Decimal("20"), 0, ",") == "20"
    assert fmt.input_text(Decimal("0.1"), 3) == "0.100"


@given(
    units=st.integers(min_value=0, max_value=10**12),
    places=st.integers(min_value=0, max_value=8),
    locale=st.sampled_from(LOCALES),
)
def test_any_grid_value_written_in_the_locale_reads_back_unchanged(units, places, locale):
    """For any Decimal d on a step grid (d = units x 10^-places), formatting then parsing gives d back."""
    point, group = locale
    d = Decimal(units).scaleb(-places)
    assert fmt.parse_decimal(fmt.input_text(d, places, point), point, group) == d


@given(text=st.text(max_size=12), locale=st.sampled_from(LOCALES))
def test_any_text_is_a_number_equal_to_its_digits_or_a_reason(text, locale):
    """Never a third outcome: no exception but NumberError, and an accepted text has no character dropped."""
    point, group = locale
    try:
        value = fmt.parse_decimal(text, point, group)
    except fmt.NumberError:
        return
    if value is None:
        assert not text.strip()
        return
    kept = text.strip().strip("\u00a0\u202f").replace(point, ".")
    assert set(kept) <= set("0123456789.")
    assert value == Decimal(kept if kept.strip(".") else "0")
