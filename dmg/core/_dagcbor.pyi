"""Types of the optional C extension built from _dagcbor.c (dmg.core.codec is its only caller)."""

from collections.abc import Callable
from typing import Any

from typing_extensions import Buffer

from dmg.core.cid import CID

# Both raise ValueError(message, offset) for anything they refuse; offset is None from encode.
def encode(value: object, cid_type: type[CID], /) -> bytes: ...
def decode(data: Buffer, make_cid: Callable[[bytes], CID], /) -> Any: ...
