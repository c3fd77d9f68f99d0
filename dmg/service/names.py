"""Parsing what clients name besides whole DXNs: a namespace, a kind, a CID; errors quote the text given.

Namespaces and kinds are checked by the DXN grammar itself (by building a DXN around them), so they obey exactly
the rules of the names they select; their errors are :class:`~dmg.core.errors.DXNError`.
"""

from __future__ import annotations

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import CIDError, DXNError


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


def parse_cid(text: str) -> CID:
    """A CID in text form; CIDError quoting ``text`` when it is not one."""
    try:
        return CID.parse(text)
    except CIDError as exc:
        raise CIDError(f"invalid CID {text!r}: {exc}") from None
