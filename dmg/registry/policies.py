"""What a registry accepts and whom it lets read, beyond the rules of the logs themselves.

A log's own rules (chains, signatures, permissions, a version released once) are :mod:`dmg.core.namelog`'s and hold
everywhere: every client replaying a log checks them. A registry's **policies** are its operator's on top of them,
and clients do not see them:

- a :class:`WritePolicy` admits or refuses each new entry (raising the typed error a refusal is). This registry's
  own: :class:`ReservedNamespaces` (reserved names are claimed only with the operator's countersignature);
  federation adds namespaces routed to a peer, private namespaces another. :class:`AllOf` combines several.
- a :class:`ReadPolicy` says whether a :class:`Reader` may read a namespace. :class:`PublicReads` (everything is
  public) is the default; private namespaces bring one that checks read tokens (``docs/visibility.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from dmg.core.dxn import is_authority
from dmg.core.errors import ConfigError, UnauthorizedError
from dmg.core.keys import PublicKey
from dmg.core.records import DXNEntry, NamespaceClaim, NamespaceEntry


class WritePolicy(Protocol):
    """Admits new entries: returns when this registry takes ``entry`` (signed by ``signers``), raises otherwise."""

    def admit(self, entry: NamespaceEntry | DXNEntry, signers: frozenset[PublicKey]) -> None: ...


@dataclass(frozen=True)
class Reader:
    """Who reads: anonymous, or holding read tokens for ``namespaces`` (and the namespaces under them)."""

    namespaces: frozenset[str] = field(default_factory=frozenset)


ANONYMOUS = Reader()


class ReadPolicy(Protocol):
    """Whether ``reader`` may read ``namespace``: its names, records, blocks and log entries."""

    def may_read(self, namespace: str, reader: Reader) -> bool: ...


class PublicReads:
    """Every namespace is public: anyone may read anything (a registry without private namespaces)."""

    def may_read(self, namespace: str, reader: Reader) -> bool:
        return True


class AllOf:
    """Admits an entry only when every one of ``policies`` does, asking them in order."""

    def __init__(self, policies: Iterable[WritePolicy]) -> None:
        self.policies = tuple(policies)

    def admit(self, entry: NamespaceEntry | DXNEntry, signers: frozenset[PublicKey]) -> None:
        for policy in self.policies:
            policy.admit(entry, signers)


@dataclass(frozen=True)
class ReservedNamespaces:
    """This registry's rules for new entries beyond the log rules: reserved namespaces are claimed only with the
    operator's countersignature. A reserved name covers itself and every namespace under it (``org.dxos`` covers
    ``org.dxos.labs``)."""

    operator: PublicKey
    reserved: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in self.reserved:
            if not is_authority(name):
                raise ConfigError(f"reserved namespace {name!r} is not a lowercase authority such as com.example")

    def reservation(self, namespace: str) -> str | None:
        return next((name for name in self.reserved if namespace == name or namespace.startswith(f"{name}.")), None)

    def admit(self, entry: NamespaceEntry | DXNEntry, signers: frozenset[PublicKey]) -> None:
        if not isinstance(entry, NamespaceClaim):
            return
        reserved = self.reservation(entry.namespace)
        if reserved is not None and self.operator not in signers:
            raise UnauthorizedError(
                f"namespace {entry.namespace!r} is reserved by this registry's operator ({reserved!r}); its claim "
                f"must be countersigned by the operator key {self.operator.did}"
            )
