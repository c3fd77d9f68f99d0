"""Name-log validation as a pure state machine.

Two kinds of append-only logs (the design follows Warg's per-package logs):

- a **namespace log** per authority (``com.example``): ``claim`` first, then ``grant`` and ``revoke`` of keys, each
  signed by as many holders of ``grant`` as the claim's ``threshold`` asks (one by default);
- a **DXN log** per module name (``com.example/function/x``): ``release``, ``yank`` and ``unyank`` of versions.

``NamespaceState.apply`` and ``DXNLogState.apply`` take the current state and one verified entry and return the
next state, or raise: :class:`LogError` for a broken chain (wrong ``prev`` or ``seq``, time going backwards, an
entry for another log), :class:`UnauthorizedError` when no signer holds the needed permission, and
:class:`ConflictError` for a version released twice (ever, also after a yank) or a yank of what was never released.
States are immutable values, so a caller can validate a whole batch and store nothing if any entry fails.

:func:`exported_prefix` says how much of a DXN log an export of some of its versions carries.

Signatures must already be verified (:meth:`dmg.core.envelope.Envelope.verify`); this module checks who signed,
not whether the signatures are genuine. It does no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError, LogError, UnauthorizedError
from dmg.core.keys import PublicKey
from dmg.core.records import (
    PERMISSIONS,
    DXNEntry,
    NamespaceClaim,
    NamespaceEntry,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Unyank,
    Yank,
)
from dmg.core.semver import Version


@dataclass(frozen=True)
class LogHead:
    """Where a log stands: the CID, seq and time of its last entry (``cid`` is None for an empty log)."""

    cid: CID | None = None
    seq: int = -1
    time: int = 0

    def check_next(self, log: str | DXN, entry_cid: CID, seq: int, prev: CID | None, time: int) -> LogHead:
        if seq != self.seq + 1:
            raise LogError(f"log {log}: entry has seq {seq}, expected {self.seq + 1}")
        if prev != self.cid:
            raise LogError(f"log {log}: entry's prev {prev} is not the log head {self.cid}")
        if time < self.time:
            raise LogError(f"log {log}: entry time {time} is before the previous entry's time {self.time}")
        return LogHead(entry_cid, seq, time)


@dataclass(frozen=True)
class NamespaceState:
    """Who may do what in one namespace, after the entries applied so far.

    ``threshold`` comes from the claim: grants and revokes need that many distinct signers holding ``grant``.
    """

    namespace: str
    head: LogHead = field(default_factory=LogHead)
    permissions: Mapping[PublicKey, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    revoked: frozenset[PublicKey] = frozenset()
    threshold: int = 1

    @property
    def claimed(self) -> bool:
        return self.head.cid is not None

    def holders(self, permission: str) -> frozenset[PublicKey]:
        return frozenset(key for key, granted in self.permissions.items() if permission in granted)

    def allows(self, permission: str, signers: frozenset[PublicKey], needed: int = 1) -> bool:
        """Whether at least ``needed`` distinct signers hold ``permission`` now (never in an unclaimed namespace)."""
        permissions = self.permissions
        holding = 0
        for key in signers:
            if permission in permissions.get(key, ()):
                holding += 1
        return holding >= needed

    def require(self, permission: str, signers: frozenset[PublicKey], what: str, needed: int = 1) -> None:
        """Raise :class:`UnauthorizedError` unless ``needed`` distinct signers hold ``permission`` now."""
        if not self.claimed:
            raise UnauthorizedError(f"namespace {self.namespace!r} is not claimed; claim it before {what}")
        if self.allows(permission, signers, needed):
            return
        holding = signers & self.holders(permission)
        revoked = signers & self.revoked
        detail = f" (key {sorted(revoked)[0].did} was revoked)" if revoked else ""
        if needed == 1:
            raise UnauthorizedError(
                f"no signer of {what} holds the {permission!r} permission in namespace {self.namespace!r}{detail}"
            )
        raise UnauthorizedError(
            f"{what} needs {needed} distinct signers holding {permission!r} in namespace {self.namespace!r}; "
            f"it has {len(holding)}{detail}"
        )

    def _check_granters(self, permissions: Mapping[PublicKey, frozenset[str]], change: str) -> None:
        """A change must leave at least ``threshold`` keys able to grant, or the namespace could never change again."""
        granters = sum(1 for granted in permissions.values() if "grant" in granted)
        if granters >= self.threshold:
            return
        if self.threshold == 1:
            raise ConflictError(f"{change} would leave no key able to grant in {self.namespace!r}")
        raise ConflictError(
            f"{change} would leave {granters} keys able to grant in {self.namespace!r}, "
            f"fewer than its threshold of {self.threshold}"
        )

    def apply(self, entry_cid: CID, entry: NamespaceEntry, signers: frozenset[PublicKey]) -> NamespaceState:
        if entry.namespace != self.namespace:
            raise LogError(f"entry for namespace {entry.namespace!r} cannot extend the log of {self.namespace!r}")
        if isinstance(entry, NamespaceClaim):
            if self.claimed:
                raise ConflictError(f"namespace {self.namespace!r} is already claimed")
            signed = signers & set(entry.keys)
            if len(signed) < entry.threshold:
                needed = "at least one" if entry.threshold == 1 else f"at least {entry.threshold}"
                raise UnauthorizedError(f"a claim must be signed by {needed} of the keys it claims with")
            head = self.head.check_next(self.namespace, entry_cid, entry.seq, entry.prev, entry.time)
            every = frozenset(PERMISSIONS)
            return replace(
                self,
                head=head,
                permissions=MappingProxyType(dict.fromkeys(entry.keys, every)),
                threshold=entry.threshold,
            )
        self.require("grant", signers, f"a {entry.TYPE}", self.threshold)
        head = self.head.check_next(self.namespace, entry_cid, entry.seq, entry.prev, entry.time)
        permissions = dict(self.permissions)
        if isinstance(entry, NamespaceGrant):
            permissions[entry.key] = entry.permissions
            self._check_granters(permissions, f"granting {entry.key.did} only {', '.join(sorted(entry.permissions))}")
            return replace(
                self, head=head, permissions=MappingProxyType(permissions), revoked=self.revoked - {entry.key}
            )
        assert isinstance(entry, NamespaceRevoke)
        if entry.key not in permissions:
            raise ConflictError(f"key {entry.key.did} holds no permission in {self.namespace!r} to revoke")
        del permissions[entry.key]
        self._check_granters(permissions, f"revoking {entry.key.did}")
        return replace(self, head=head, permissions=MappingProxyType(permissions), revoked=self.revoked | {entry.key})


@dataclass(frozen=True)
class DXNLogState:
    """The versions of one DXN: which were released (to which record) and which are yanked."""

    dxn: DXN
    head: LogHead = field(default_factory=LogHead)
    released: Mapping[Version, CID] = field(default_factory=lambda: MappingProxyType({}))
    yanked: Mapping[Version, str] = field(default_factory=lambda: MappingProxyType({}))

    def apply(
        self, entry_cid: CID, entry: DXNEntry, signers: frozenset[PublicKey], namespace: NamespaceState
    ) -> DXNLogState:
        """Apply ``entry`` signed by ``signers``, judged against ``namespace`` as it stands at this entry."""
        if entry.dxn != self.dxn:
            raise LogError(f"entry for {entry.dxn} cannot extend the log of {self.dxn}")
        if namespace.namespace != self.dxn.authority:
            raise LogError(f"namespace {namespace.namespace!r} does not govern {self.dxn}")
        version = entry.version
        if isinstance(entry, Release):
            # The message names the entry, so it is built only when the check fails.
            if not namespace.allows("release", signers):
                namespace.require("release", signers, f"a release of {self.dxn}@{version}")
            if version in self.released:
                raise ConflictError(f"{self.dxn}@{version} was already released; a version is released only once")
            head = self.head.check_next(self.dxn, entry_cid, entry.seq, entry.prev, entry.time)
            released = MappingProxyType({**self.released, version: entry.record})
            return DXNLogState(self.dxn, head, released, self.yanked)
        namespace.require("yank", signers, f"a {entry.TYPE} of {self.dxn}@{version}")
        if version not in self.released:
            raise ConflictError(f"{self.dxn}@{version} was never released")
        head = self.head.check_next(self.dxn, entry_cid, entry.seq, entry.prev, entry.time)
        yanked = dict(self.yanked)
        if isinstance(entry, Yank):
            if version in yanked:
                raise ConflictError(f"{self.dxn}@{version} is already yanked")
            yanked[version] = entry.reason
        else:
            assert isinstance(entry, Unyank)
            if version not in yanked:
                raise ConflictError(f"{self.dxn}@{version} is not yanked")
            del yanked[version]
        return replace(self, head=head, yanked=MappingProxyType(yanked))


def exported_prefix(entries: Sequence[DXNEntry], versions: Collection[Version]) -> int:
    """How many entries of a DXN log (``entries``, in log order) an export of ``versions`` carries: the first
    through the last entry about a version the export carries (its release, or a later yank or unyank of it).

    A log is a hash chain, so only a prefix of it can be imported; every version released in that prefix comes
    with it, and so do that version's later yanks and unyanks (which may bring further releases along). A registry
    importing the prefix therefore gives every version it receives the yank status this log gives it now.
    Each of ``versions`` must be released in ``entries``.
    """
    last = {entry.version: index for index, entry in enumerate(entries)}
    unreleased = [version for version in versions if version not in last]
    if unreleased:
        raise LogError(f"version {unreleased[0]} is not released in this log")
    end = max((last[version] + 1 for version in versions), default=0)
    index = 0
    while index < end:  # ``end`` grows while the walk finds releases with later entries
        entry = entries[index]
        if isinstance(entry, Release):
            end = max(end, last[entry.version] + 1)
        index += 1
    return end
