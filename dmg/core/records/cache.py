"""Parsing by content: a record part validated once per distinct canonical encoding.

Every version of a module repeats the same functions, resources, triggers and dependencies, so the module record
parses each part through a :class:`ByContent` and a registry replaying thousands of releases validates each
distinct part once. The caches hold parts of records from anyone, so they are bounded in entries and in the size
of what they remember. This module knows nothing about what a part means; :mod:`dmg.core.records.module` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

from dmg.core import codec
from dmg.core.errors import CodecError

PartT = TypeVar("PartT")

REMEMBERED_ENTRIES: Final = 256
"""Distinct parts each cache remembers."""

REMEMBERED_BYTES: Final = 8 << 10
"""Encoded size above which a part is parsed every time and not remembered."""


class ByContent(Generic[PartT]):
    """``parse`` remembered by the canonical DAG-CBOR bytes of its argument.

    Equal canonical bytes are equal values (what is signed is those bytes), so each distinct part is validated
    once. A first sight parses a decoded copy, so what is remembered shares nothing with the caller's payload;
    records share these frozen parts, which no one may change. A value DAG-CBOR cannot carry, or one larger than
    :data:`REMEMBERED_BYTES`, is parsed as it is, every time. Refusals are not remembered: a bad part raises its
    error on every sight.
    """

    def __init__(self, parse: Callable[[Any], PartT]) -> None:
        self._parse = parse
        self._parse_encoded = functools.lru_cache(maxsize=REMEMBERED_ENTRIES)(self._parse_decoded)

    def _parse_decoded(self, encoded: bytes) -> PartT:
        return self._parse(codec.decode(encoded))

    def __call__(self, value: Any) -> PartT:
        try:
            encoded = codec.encode(value)
        except CodecError:
            return self._parse(value)
        if len(encoded) > REMEMBERED_BYTES:
            return self._parse(value)
        return self._parse_encoded(encoded)

    def remembered(self) -> int:
        """How many distinct parts are remembered now."""
        return self._parse_encoded.cache_info().currsize
