import pytest
from stdnum.iso7064 import mod_37_36

from golden.global_ids import (
    GlobalIdError,
    allocate_serials,
    format_global_id,
    parse_global_id,
)


def test_format_has_prefix_nine_digits_and_iso7064_check_character():
    global_id = format_global_id("CUS", 42)

    assert global_id[:12] == "CUS000000042"
    assert len(global_id) == 13
    assert mod_37_36.is_valid(global_id)


@pytest.mark.parametrize(
    "typed", ["cus000000042{c}", "CUS-000000042-{c}", " CUS 000 000 042 {c} ", "cus_000000042_{c}"]
)
def test_parse_accepts_lower_case_spaces_and_hyphens(typed):
    check = format_global_id("CUS", 42)[-1]

    parsed = parse_global_id(typed.format(c=check.lower()))

    assert (parsed.prefix, parsed.serial) == ("CUS", 42)
    assert str(parsed) == format_global_id("CUS", 42)


def test_a_single_typo_is_reported_as_a_check_character_mismatch():
    good = format_global_id("SUP", 1234)
    typo = good[:5] + ("9" if good[5] != "9" else "8") + good[6:]

    with pytest.raises(GlobalIdError) as error:
        parse_global_id(typo)

    assert error.value.code == "check_character"
    assert "check character does not match" in str(error.value)


def test_transposed_digits_are_detected():
    good = format_global_id("MAT", 123456789)
    swapped = good[:10] + good[11] + good[10] + good[12:]
    assert swapped != good

    with pytest.raises(GlobalIdError, match="check character does not match"):
        parse_global_id(swapped)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "malformed"),
        ("hello", "malformed"),
        ("CUS12", "malformed"),
        ("XYZ0000000011", "unknown_prefix"),
    ],
)
def test_malformed_and_unknown_prefix_are_distinct_errors(text, code):
    with pytest.raises(GlobalIdError) as error:
        parse_global_id(text)

    assert error.value.code == code


@pytest.mark.django_db
def test_allocation_is_monotonic_and_never_repeats():
    first = allocate_serials("customer", 3)
    second = allocate_serials("customer", 2)
    other_domain = allocate_serials("supplier", 1)

    assert first == sorted(first) and len(set(first)) == 3
    assert min(second) > max(first)
    assert len(set(first + second)) == 5
    assert len(other_domain) == 1
