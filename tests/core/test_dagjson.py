"""Canonical DAG-JSON: byte for byte the DAG-JSON forms of the IPLD codec fixtures, float layout, key order, the
reserved namespace, and what is outside the data model."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmg.core import codec, dagjson
from dmg.core.cid import CID, RAW
from dmg.core.errors import EncodeError
from tests.support import paths

CODEC_FIXTURES = paths.FIXTURES / "ipld-codec-fixtures" / "fixtures"
WITH_DAG_JSON = sorted(path for path in CODEC_FIXTURES.iterdir() if any(path.glob("*.dag-json")))
DAG_JSON = 0x0129
A_CID = CID.of(b"block", RAW)


def test_125_fixtures_have_a_dag_json_form() -> None:
    assert len(WITH_DAG_JSON) == 125
    assert {path.name for path in CODEC_FIXTURES.iterdir()} - {path.name for path in WITH_DAG_JSON} == {
        "string-Čaues ßvěte!",
        "string-水",
        "string-𐅑",
    }


@pytest.mark.parametrize("fixture", WITH_DAG_JSON, ids=[path.name for path in WITH_DAG_JSON])
def test_the_decoded_dag_cbor_fixture_encodes_to_its_dag_json_bytes(fixture: Path) -> None:
    """Bytes, not parsed JSON, are compared: DAG-JSON is canonical, and its CID hashes exactly these bytes."""
    (cbor,) = fixture.glob("*.dag-cbor")
    (form,) = fixture.glob("*.dag-json")
    expected = form.read_bytes()
    cid = CID.parse(form.stem)
    assert cid.codec == DAG_JSON and cid.matches(expected)
    assert dagjson.encode(codec.decode(cbor.read_bytes())) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.5, "0.5"),
        (-1.1, "-1.1"),
        (1.0, "1.0"),  # a float keeps a decimal point, so that it reads back as a float
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (123.456, "123.456"),
        (1e20, "100000000000000000000.0"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (8.940696716308594e-8, "8.940696716308594e-8"),
        (5e-324, "5e-324"),
        (82497.63712086187, "82497.63712086187"),
    ],
)
def test_floats_are_laid_out_as_ecmascript_writes_them(value: float, text: str) -> None:
    assert dagjson.format_float(value) == text
    assert dagjson.encode([value]) == f"[{text}]".encode()


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_reads_back_as_the_same_float(value: float) -> None:
    text = dagjson.format_float(value)
    read = json.loads(text)
    assert isinstance(read, float) and read == value and math.copysign(1, read) == math.copysign(1, value)


def test_maps_are_sorted_by_their_keys_utf8_bytes_at_every_level() -> None:
    value = {"size": 1, "chunks": [{"zz": 1, "a": 2}], "é": 3, "z": 4, "\U0001f600": 5, "\uffff": 6, "": 7}
    assert codec.decode(codec.encode(value)) == value  # DAG-CBOR puts shorter keys first
    assert dagjson.encode(codec.decode(codec.encode(value))) == (
        '{"":7,"chunks":[{"a":2,"zz":1}],"size":1,"z":4,"é":3,"\uffff":6,"\U0001f600":5}'.encode()
    )


def test_scalars_bytes_links_and_strings() -> None:
    value = [None, True, False, 2**64 - 1, -(2**64), b"\x00\xff", b"", A_CID, "\x00\x1f\"\\\n\t\u2028☺/"]
    assert dagjson.encode(value) == (
        '[null,true,false,18446744073709551615,-18446744073709551616,{"/":{"bytes":"AP8"}},{"/":{"bytes":""}},'
        f'{{"/":"{A_CID}"}},"\\u0000\\u001f\\"\\\\\\n\\t\u2028☺/"]'
    ).encode()


@pytest.mark.parametrize(
    ("value", "reads_as"),
    [
        ({"/": "bafy"}, "link"),
        ({"/": "x", "bar": 1}, "link"),
        ({"/": {"bytes": "AP8"}}, "bytes"),
        ({"/": {"bytes": "AP8", "z": 1}}, "bytes"),
        ({"/": {"bytes": "AP8"}, "bar": 1}, "bytes"),
        ({"x": [{"/": "nested"}]}, "link"),
    ],
)
def test_maps_in_the_reserved_namespace_are_refused(value: dict[str, Any], reads_as: str) -> None:
    with pytest.raises(EncodeError, match=f"would read back from DAG-JSON as {reads_as}"):
        dagjson.encode(value)


@pytest.mark.parametrize(
    "value",
    [
        {"/": True, "bar": 1},
        {"!": 1, "/": "x"},  # "!" sorts before "/"
        {"/": {"bytes": True}},
        {"/": {"abar": 1, "bytes": "x"}},
        {"/": A_CID},
        {"/": b"bytes"},
        {"/": {}},
    ],
)
def test_maps_that_read_back_as_maps_are_kept(value: dict[str, Any]) -> None:
    assert json.loads(dagjson.encode(value)).keys() == value.keys()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "not in the IPLD data model"),
        ([math.inf], "not in the IPLD data model"),
        ({1: 2}, "map keys must be strings"),
        ({"a": {1, 2}}, "set is not in the IPLD data model"),
        ((1, 2), "tuple is not in the IPLD data model"),
    ],
)
def test_values_outside_the_data_model_are_refused(value: Any, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        dagjson.encode(value)


def test_nesting_is_bounded_as_in_dag_cbor() -> None:
    deep: list[Any] = []
    for _ in range(codec.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(EncodeError, match="nesting deeper than"):
        dagjson.encode(deep)
