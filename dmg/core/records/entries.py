"""Log entries: the signed payloads of namespace logs and DXN logs, one class per entry ``type``.

Every entry carries its place in its log's chain, ``seq`` (0 for the first), ``prev`` (the CID of the previous
entry, ``null`` for the first) and ``time`` (milliseconds since the Unix epoch):

- namespace log: ``namespace.claim`` (``namespace, keys``, optional ``threshold``), ``namespace.grant``
  (``namespace, key, permissions``), ``namespace.revoke`` (``namespace, key``);
- DXN log: ``release`` (``dxn, version, record``: the CID of the module record's envelope), ``yank`` (``dxn,
  version, reason``), ``unyank`` (``dxn, version``).

Every field is required unless it says otherwise, in the constructors too (they take keywords only). The
constructors check what the values mean; :func:`parse_entry` and the ``from_dict`` methods check the shape of a
decoded payload first. Entries are a closed set: a field this version does not know is refused, not kept, since
what an entry authorises must be understood by everyone who replays the log.

This module checks one entry; whether it may extend a log is :mod:`dmg.core.namelog`'s job, and signatures are
:mod:`dmg.core.envelope`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError, RecordError
from dmg.core.keys import PublicKey
from dmg.core.records._fields import as_dxn, as_version, check_type, non_negative, optional, required
from dmg.core.records.module import MAX_DESCRIPTION, MAX_LIST
from dmg.core.semver import Version

PERMISSIONS: Final = ("release", "yank", "grant")


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    """Fields every log entry carries: its place in the chain and when it was written."""

    seq: int
    prev: CID | None
    time: int

    TYPE: ClassVar[str] = ""
    KNOWN: ClassVar = frozenset({"type", "seq", "prev", "time"})

    def __post_init__(self) -> None:
        if self.seq < 0:
            raise RecordError("seq: must not be negative")
        if (self.seq == 0) != (self.prev is None):
            raise RecordError("prev: must be null exactly when seq is 0")
        if self.time < 0:
            raise RecordError("time: must not be negative")

    @property
    def log_name(self) -> str:
        """The name of the log this entry extends (a namespace or a DXN)."""
        raise NotImplementedError

    @staticmethod
    def _chain(data: Mapping[str, Any], where: str) -> dict[str, Any]:
        prev = data.get("prev")
        if prev is not None and not isinstance(prev, CID):
            raise RecordError(f"{where}: field 'prev' must be a CID or null")
        if "prev" not in data:
            raise RecordError(f"{where}: missing field 'prev'")
        return {"seq": non_negative(data, "seq", where), "prev": prev, "time": non_negative(data, "time", where)}

    def _chain_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "seq": self.seq, "prev": self.prev, "time": self.time}


def _key_field(data: Mapping[str, Any], key: str, where: str) -> PublicKey:
    value = required(data, key, bytes, where)
    try:
        return PublicKey.from_multicodec(value)
    except DmgError as exc:
        raise RecordError(f"{where}: field '{key}': {exc}") from exc


def _check_key(key: Any, where: str) -> None:
    if not isinstance(key, PublicKey):
        raise RecordError(f"{where}: must be a PublicKey, not {type(key).__name__}")


@dataclass(frozen=True, kw_only=True)
class NamespaceEntry(LogEntry):
    """An entry of the log of ``namespace`` (a DXN authority, in lowercase)."""

    namespace: str

    def __post_init__(self) -> None:
        super().__post_init__()
        text = self.namespace
        if not isinstance(text, str):
            raise RecordError(f"namespace: must be a string, not {type(text).__name__}")
        try:
            DXN.parse(f"{text}/namespace/check")
        except DmgError as exc:
            raise RecordError(f"namespace: {text!r} is not a valid authority") from exc
        if text != text.lower():
            raise RecordError(f"namespace: {text!r} must be lowercase")

    @property
    def log_name(self) -> str:
        return self.namespace


@dataclass(frozen=True, kw_only=True)
class NamespaceClaim(NamespaceEntry):
    """The first entry of a namespace log: these keys own the namespace with every permission.

    ``threshold`` (m of n) is how many distinct holders of ``grant`` must sign each later grant or revoke, and how
    many of the claimed keys must sign the claim itself. It is written only when it is not 1, so that a claim has
    one encoding; an explicit ``threshold: 1`` is refused.
    """

    keys: tuple[PublicKey, ...]
    threshold: int = 1

    TYPE: ClassVar = "namespace.claim"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.keys:
            raise RecordError("keys: a claim names at least one key")
        for key in self.keys:
            _check_key(key, "keys")
        if len(set(self.keys)) != len(self.keys):
            raise RecordError("keys: a key is listed twice")
        if isinstance(self.threshold, bool) or not 1 <= self.threshold <= len(self.keys):
            raise RecordError(f"threshold: must be between 1 and the number of keys ({len(self.keys)})")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceClaim:
        where = cls.TYPE
        keys = required(data, "keys", list, where)
        if len(keys) > MAX_LIST:
            raise RecordError(f"{where}: more than {MAX_LIST} keys")
        if type(data.get("threshold")) is int and data["threshold"] == 1:
            raise RecordError(f"{where}: field 'threshold' is omitted when it is 1 (the default)")
        return cls(
            **cls._chain(data, where),
            namespace=required(data, "namespace", str, where),
            keys=tuple(_key_field({"key": key}, "key", f"{where}.keys") for key in keys),
            threshold=optional(data, "threshold", int, where, 1),
        )

    def to_dict(self) -> dict[str, Any]:
        threshold = {} if self.threshold == 1 else {"threshold": self.threshold}
        return {
            **self._chain_dict(),
            "namespace": self.namespace,
            "keys": [k.multicodec for k in self.keys],
            **threshold,
        }


@dataclass(frozen=True, kw_only=True)
class NamespaceGrant(NamespaceEntry):
    """Gives ``key`` the listed permissions over the namespace (replacing any it had)."""

    key: PublicKey
    permissions: frozenset[str]

    TYPE: ClassVar = "namespace.grant"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_key(self.key, "key")
        unknown = self.permissions - set(PERMISSIONS)
        if unknown:
            raise RecordError(f"permissions: unknown permission {sorted(unknown)[0]!r}")
        if not self.permissions:
            raise RecordError("permissions: a grant gives at least one permission")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceGrant:
        where = cls.TYPE
        permissions = required(data, "permissions", list, where)
        if not all(isinstance(p, str) for p in permissions):
            raise RecordError(f"{where}: field 'permissions' must be a list of strings")
        return cls(
            **cls._chain(data, where),
            namespace=required(data, "namespace", str, where),
            key=_key_field(data, "key", where),
            permissions=frozenset(permissions),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._chain_dict(),
            "namespace": self.namespace,
            "key": self.key.multicodec,
            "permissions": sorted(self.permissions),
        }


@dataclass(frozen=True, kw_only=True)
class NamespaceRevoke(NamespaceEntry):
    """Takes every permission from ``key``; what it signed before stays valid."""

    key: PublicKey

    TYPE: ClassVar = "namespace.revoke"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_key(self.key, "key")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceRevoke:
        where = cls.TYPE
        return cls(
            **cls._chain(data, where),
            namespace=required(data, "namespace", str, where),
            key=_key_field(data, "key", where),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self._chain_dict(), "namespace": self.namespace, "key": self.key.multicodec}


@dataclass(frozen=True, kw_only=True)
class DXNEntry(LogEntry):
    """An entry of the log of ``dxn`` (no ``@version``) about its ``version``."""

    dxn: DXN
    version: Version

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.dxn, DXN):
            raise RecordError(f"dxn: must be a DXN, not {type(self.dxn).__name__}")
        if self.dxn.selector is not None:
            raise RecordError("dxn: must not carry an @version")
        if not isinstance(self.version, Version):
            raise RecordError(f"version: must be a Version, not {type(self.version).__name__}")

    @functools.cached_property
    def log_name(self) -> str:
        return str(self.dxn)

    @property
    def namespace(self) -> str:
        return self.dxn.authority

    @staticmethod
    def _fields(data: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            **LogEntry._chain(data, where),
            "dxn": as_dxn(required(data, "dxn", str, where), f"{where}.dxn"),
            "version": as_version(required(data, "version", str, where), f"{where}.version"),
        }

    def _dxn_dict(self) -> dict[str, Any]:
        return {**self._chain_dict(), "dxn": str(self.dxn), "version": str(self.version)}


@dataclass(frozen=True, kw_only=True)
class Release(DXNEntry):
    """Publishes ``version`` of ``dxn`` as the module record ``record`` (an envelope CID)."""

    record: CID

    TYPE: ClassVar = "release"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.record, CID):
            raise RecordError(f"record: a release links its module record by CID, not {type(self.record).__name__}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Release:
        where = cls.TYPE
        return cls(**cls._fields(data, where), record=required(data, "record", CID, where))

    def to_dict(self) -> dict[str, Any]:
        return {**self._dxn_dict(), "record": self.record}


@dataclass(frozen=True, kw_only=True)
class Yank(DXNEntry):
    """Marks a released version as not to be picked by ranges; it stays fetchable by exact version."""

    reason: str

    TYPE: ClassVar = "yank"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.reason, str):
            raise RecordError(f"reason: must be a string, not {type(self.reason).__name__}")
        if len(self.reason) > MAX_DESCRIPTION:
            raise RecordError(f"reason: longer than {MAX_DESCRIPTION} characters")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Yank:
        where = cls.TYPE
        return cls(**cls._fields(data, where), reason=required(data, "reason", str, where))

    def to_dict(self) -> dict[str, Any]:
        return {**self._dxn_dict(), "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class Unyank(DXNEntry):
    """Reverses a yank."""

    TYPE: ClassVar = "unyank"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unyank:
        return cls(**cls._fields(data, cls.TYPE))

    def to_dict(self) -> dict[str, Any]:
        return self._dxn_dict()


_ENTRY_PARSERS: Final[dict[str, Callable[[Mapping[str, Any]], NamespaceEntry | DXNEntry]]] = {
    kind.TYPE: kind.from_dict for kind in (NamespaceClaim, NamespaceGrant, NamespaceRevoke, Release, Yank, Unyank)
}
_ENTRY_TYPE_NAMES: Final = tuple(_ENTRY_PARSERS)
_ENTRY_FIELDS: Final = {
    kind: LogEntry.KNOWN | fields
    for kind, fields in {
        NamespaceClaim.TYPE: {"namespace", "keys", "threshold"},
        NamespaceGrant.TYPE: {"namespace", "key", "permissions"},
        NamespaceRevoke.TYPE: {"namespace", "key"},
        Release.TYPE: {"dxn", "version", "record"},
        Yank.TYPE: {"dxn", "version", "reason"},
        Unyank.TYPE: {"dxn", "version"},
    }.items()
}


def parse_entry(payload: Any) -> NamespaceEntry | DXNEntry:
    """Parse a log-entry payload into its typed class; unknown fields are refused (entries are a closed set)."""
    check_type(payload, _ENTRY_TYPE_NAMES, "log entry")
    kind = payload["type"]
    if not payload.keys() <= _ENTRY_FIELDS[kind]:
        unknown = payload.keys() - _ENTRY_FIELDS[kind]
        raise RecordError(f"{kind}: unknown field {sorted(unknown)[0]!r}")
    return _ENTRY_PARSERS[kind](payload)
