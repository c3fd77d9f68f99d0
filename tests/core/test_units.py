"""Sizes and durations: parsing what people write, printing exactly, keeping the unit family."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmg.core.errors import UnitError
from dmg.core.units import GiB, KiB, MiB, format_age, format_duration, format_size, parse_duration, parse_size

SCALES = {"GiB": GiB, "MiB": MiB, "KiB": KiB, "GB": 10**9, "MB": 10**6, "kB": 1000, "B": 1}


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), (1024, 1024), ("1KiB", 1024), ("32MiB", 33554432), ("1GB", 10**9), ("16MB", 16 * 10**6), ("7 b", 7)],
)
def test_sizes(text: object, value: int) -> None:
    assert parse_size(text, "k") == value


@pytest.mark.parametrize(("text", "value"), [(250, 250), ("500ms", 500), ("5s", 5000), ("2m", 120000), ("1h", 3600000)])
def test_durations(text: object, value: int) -> None:
    assert parse_duration(text, "k") == value


@pytest.mark.parametrize("text", ["-1", "1.5MiB", "lots", True, None, "5 parsecs", -3, "9" * 100])
def test_bad_sizes_name_the_key(text: object) -> None:
    with pytest.raises(UnitError, match=r"^k: "):
        parse_size(text, "k")


@pytest.mark.parametrize("text", ["5", "5 parsecs", "1.5s", False, [], "5" * 100 + "s"])
def test_bad_durations_name_the_key(text: object) -> None:
    with pytest.raises(UnitError, match=r"^k: "):
        parse_duration(text, "k")


def test_an_error_quotes_a_long_value_by_its_start_only() -> None:
    with pytest.raises(UnitError) as caught:
        parse_size("x" * 10_000, "resources.memory")
    assert len(str(caught.value)) < 200


@given(st.integers(min_value=0, max_value=1 << 40))
def test_format_size_is_exact(size: int) -> None:
    number, unit = format_size(size).split(" ")
    assert int(number) * SCALES[unit] == size


@pytest.mark.parametrize(
    ("size", "text"),
    [(64 * MiB, "64 MiB"), (16 * 10**6, "16 MB"), (10**9, "1 GB"), (1024, "1 KiB"), (1500, "1500 B"), (0, "0 B")],
)
def test_format_size_keeps_the_unit_family_it_was_written_in(size: int, text: str) -> None:
    assert format_size(size) == text


@given(st.sampled_from(["16MB", "32MiB", "1GiB", "3GB", "512KiB", "250kB", "7"]))
def test_a_written_size_prints_as_written(text: str) -> None:
    assert format_size(parse_size(text, "k")).replace(" ", "").lower().rstrip("b") == text.lower().rstrip("b")


def test_format_duration() -> None:
    assert (format_duration(5000), format_duration(1500)) == ("5 s", "1500 ms")


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [(42_000, "42 seconds"), (119_000, "119 seconds"), (3 * 3600_000, "3 hours"), (5 * 60_000, "5 minutes"),
     (3 * 86400_000, "3 days")],
)
def test_format_age(milliseconds: int, text: str) -> None:
    assert format_age(milliseconds) == text
