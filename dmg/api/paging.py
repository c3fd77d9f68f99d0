"""Pages of the registry's listings: how large a page may be, and the one cursor format every listing uses.

A cursor is opaque to clients (base64 of ``<listing>:<position>``); only the registry that gave it out can read
it, and a cursor of one listing is refused by another. :func:`decode_cursor` refuses anything it did not make with
a :class:`~dmg.core.errors.DmgError` (``BAD_REQUEST``) quoting a short prefix only.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from dmg.core.errors import DmgError

DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
MAX_CURSOR_LENGTH: Final = 64


def encode_cursor(listing: str, position: int) -> str:
    """The cursor of the item at ``position`` (0, 1, ...) of ``listing``."""
    return base64.urlsafe_b64encode(f"{listing}:{position}".encode()).decode("ascii")


def decode_cursor(listing: str, cursor: str) -> int:
    """The position a cursor of ``listing`` names; DmgError when it is not one this registry gave out."""
    if len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
            prefix, _, position = text.partition(":")
            if prefix == listing and position.isdigit() and position.isascii():
                return int(position)
        except (binascii.Error, UnicodeError, ValueError):
            pass
    shown = cursor if len(cursor) <= MAX_CURSOR_LENGTH else f"{cursor[:MAX_CURSOR_LENGTH]}..."
    raise DmgError(f"cursor {shown!r} is not one this registry gave out: pass an endCursor or a cursor unchanged")
