"""Parsing the name fragments the service accepts besides whole DXNs: a namespace and a kind.

Both are checked by the DXN grammar itself (by building a DXN around them), so they obey exactly the rules of
the names they select; the errors are :class:`~dmg.core.errors.DXNError` with a message about the fragment.
"""

from __future__ import annotations

from dmg.core.dxn import DXN
from dmg.core.errors import DXNError


def parse_namespace(text: str) -> str:
    """A namespace (a DXN authority such as ``com.example``), validated and lowercased."""
    try:
        return DXN(text, ("kind", "name")).authority
    except DXNError:
        raise DXNError(
            f"invalid namespace {text!r}: use dot-separated segments of a-z, 0-9 and '-' (e.g. com.example)"
        ) from None


def parse_kind(text: str) -> str:
    """A DXN kind (the first path segment: ``function``, ``api``, ...), validated."""
    try:
        return DXN("kind.check", (text, "name")).kind
    except DXNError:
        raise DXNError(f"invalid kind {text!r}: one segment of lowercase a-z, 0-9 and '-' (e.g. function)") from None
