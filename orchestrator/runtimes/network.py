"""The network allow-list of a function: which ``host:port`` pairs its HTTP requests may reach.

Entries are written as in a module record's ``resources.network.allow``:

- ``api.example.com:8443``: that host, that port;
- ``api.example.com``: that host on the default port of the request's scheme (80 for http, 443 for https) only;
- ``*.example.com`` and ``*.example.com:8443``: any subdomain of ``example.com`` (not ``example.com`` itself).

Hosts compare case-insensitively; IP addresses are written as hosts (``127.0.0.1:8080``). Names are checked, not
the addresses they resolve to: the operator grants names it trusts. Performing requests is
:mod:`orchestrator.runtimes.wasi.http`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from orchestrator.errors import GrantError

DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_ENTRY: Final = re.compile(
    r"(?P<wildcard>\*\.)?(?P<host>[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(:(?P<port>[0-9]{1,5}))?\Z"
)


@dataclass(frozen=True)
class AllowEntry:
    """One allowed host (or subdomain pattern), on one port or on the scheme's default port."""

    host: str
    port: int | None
    wildcard: bool

    @classmethod
    def parse(cls, text: str) -> AllowEntry:
        match = _ENTRY.match(text.lower()) if isinstance(text, str) else None
        port = int(match.group("port")) if match and match.group("port") else None
        if not match or (port is not None and not 1 <= port <= 65535):
            raise GrantError(f"network allow-list: {text!r} is not host, host:port, *.domain or *.domain:port")
        return cls(host=match.group("host"), port=port, wildcard=bool(match.group("wildcard")))

    def permits(self, scheme: str, host: str, port: int) -> bool:
        wanted_port = self.port if self.port is not None else DEFAULT_PORTS.get(scheme)
        if port != wanted_port:
            return False
        return host.endswith("." + self.host) if self.wildcard else host == self.host

    def __str__(self) -> str:
        prefix = "*." if self.wildcard else ""
        return f"{prefix}{self.host}" + (f":{self.port}" if self.port is not None else "")


@dataclass(frozen=True)
class AllowList:
    """The hosts a function may reach; empty means no network at all."""

    entries: tuple[AllowEntry, ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> AllowList:
        if isinstance(texts, str):
            raise GrantError("network allow-list: must be a list of hosts, not a single string")
        return cls(tuple(AllowEntry.parse(text) for text in texts))

    def permits(self, scheme: str, host: str, port: int) -> bool:
        """Whether a request to ``scheme://host:port`` is allowed."""
        if scheme not in DEFAULT_PORTS:
            return False
        host = host.lower()
        return any(entry.permits(scheme, host, port) for entry in self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __str__(self) -> str:
        return ", ".join(map(str, self.entries)) or "(none)"
