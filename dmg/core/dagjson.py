"""Canonical DAG-JSON (ipld.io/specs/codecs/dag-json/spec/): an IPLD data model value as the JSON text every
conforming encoder writes for it, byte for byte.

- Maps have their keys sorted by their UTF-8 bytes, at every level ("Serialization": MUST), which is not DAG-CBOR's
  order (shorter keys first), so a decoded DAG-CBOR map is re-sorted; there is no whitespace.
- Bytes are ``{"/":{"bytes":"<base64>"}}``, standard alphabet without padding; links are ``{"/":"<CID>"}``, a CIDv1
  in base32, a CIDv0 in base58btc ("Bytes", "Links").
- Strings are written as ``JSON.stringify`` writes them: ``"``, ``\\`` and the control characters escaped
  (``\\b \\f \\n \\r \\t``, else ``\\u00xx``), everything else as UTF-8.
- Integers are decimal, whatever their size. Floats are the shortest digits that read back to the same float,
  laid out as ECMAScript's ``Number.prototype.toString`` lays them out (plain from 1e-6 up to 1e21, an exponent
  such as ``1e-7`` or ``1e+21`` outside), which is how the IPLD fixtures write them; a float that would then read as
  an integer gets ``.0``, as "Numbers" asks, so that it stays a float (``-0.0`` keeps its sign).
- A map that would read back as a link or bytes is refused: one whose first key is ``"/"`` holding a string, or a
  map whose first key ``"bytes"`` holds a string ("The Reserved Namespace"). So is anything outside the data model
  (NaN and the infinities, keys that are not strings, other types), with :class:`~dmg.core.errors.EncodeError`.

The IPLD codec fixtures (``fixtures/ipld-codec-fixtures``) are the reference: every DAG-CBOR fixture with a DAG-JSON
form, decoded by :mod:`dmg.core.codec`, encodes to exactly that form's bytes.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Final

from dmg.core.cid import CID
from dmg.core.codec import MAX_DEPTH
from dmg.core.errors import EncodeError

_PLAIN_ABOVE: Final = -6
"""ECMAScript writes a float without an exponent when its decimal exponent (Number::toString's ``n``) is above
this and at most :data:`_PLAIN_UP_TO`."""
_PLAIN_UP_TO: Final = 21


def encode(value: Any) -> bytes:
    """``value`` (DAG-CBOR's data model: dict with str keys, list, str, bytes, int, float, bool, None, CID) as
    canonical DAG-JSON, UTF-8."""
    parts: list[str] = []
    _write(value, parts, 0)
    return "".join(parts).encode()


def format_float(value: float) -> str:
    """``value`` as DAG-JSON writes a float: ECMAScript's layout of its shortest round-trip digits, with ``.0``
    where that layout would read as an integer."""
    if not math.isfinite(value):
        raise EncodeError(f"float {value} is not in the IPLD data model (no NaN or Infinity)")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # ``point``: where the decimal point falls after the first significant digit's position (Number::toString's n).
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    if not digits:  # zero
        return f"{sign}0.0"
    count = len(digits)
    if count <= point <= _PLAIN_UP_TO:
        text = digits + "0" * (point - count) + ".0"
    elif 0 < point <= _PLAIN_UP_TO:
        text = f"{digits[:point]}.{digits[point:]}"
    elif _PLAIN_ABOVE < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        power = point - 1
        text = (digits if count == 1 else f"{digits[0]}.{digits[1:]}") + f"e{'+' if power > 0 else '-'}{abs(power)}"
    return sign + text


def _reserved(value: dict[str, Any], keys: list[str]) -> str | None:
    """What the map (its keys sorted) would read back as, ``link`` or ``bytes``; None when it reads back as a map."""
    if keys[0] != "/":
        return None
    inner = value["/"]
    if isinstance(inner, str):
        return "link"
    if (
        isinstance(inner, dict)
        and isinstance(inner.get("bytes"), str)
        and all(isinstance(key, str) for key in inner)
        and min(inner) == "bytes"
    ):
        return "bytes"
    return None


def _write(value: Any, parts: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise EncodeError(f"nesting deeper than {MAX_DEPTH} levels")
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, float):
        parts.append(format_float(value))
    elif isinstance(value, bytes):
        parts.append('{"/":{"bytes":"' + base64.b64encode(value).decode("ascii").rstrip("=") + '"}}')
    elif isinstance(value, CID):
        parts.append('{"/":"' + str(value) + '"}')
    elif isinstance(value, list):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts, depth + 1)
        parts.append("]")
    elif isinstance(value, dict):
        _write_map(value, parts, depth)
    else:
        raise EncodeError(f"{type(value).__name__} is not in the IPLD data model")


def _write_map(value: dict[Any, Any], parts: list[str], depth: int) -> None:
    if not all(isinstance(key, str) for key in value):
        raise EncodeError("map keys must be strings in the IPLD data model")
    # Code point order is UTF-8 byte order, for the well-formed strings a decoder gives.
    keys = sorted(value)
    read_back = _reserved(value, keys) if keys else None
    if read_back is not None:
        raise EncodeError(f"this map would read back from DAG-JSON as {read_back}: its first key is '/'")
    parts.append("{")
    for index, key in enumerate(keys):
        if index:
            parts.append(",")
        parts.append(json.dumps(key, ensure_ascii=False))
        parts.append(":")
        _write(value[key], parts, depth + 1)
    parts.append("}")
