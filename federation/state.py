"""What a registry remembers about its peers, in ``<data>/federation.sqlite3`` (numbered migrations in
``federation/migrations``).

Peers and their status; for each home log mirrored, the newest checkpoint verified, how much of its tree is known
(every complete subtree hash, so proofs in it can be served) and the leaf of each entry taken from it; which
namespaces are mirrored from which home; and the evidence against peers that lied. The registry's own data (the
entries and blocks taken) lives in its store: a sync commits there first and records its progress here after, so
a crash in between only repeats work (importing an entry twice is a no-op), never loses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import aiosqlite

from dmg.core.cid import CID
from dmg.core.errors import NotFoundError, StoreError
from dmg.core.tlog import NodeId
from dmg.db.migrations import load_migrations, migrate
from dmg.db.sqlite import open_database
from federation.peers import Evidence, Mode, Peer, PeerStatus, Status

DATABASE_NAME: Final = "federation.sqlite3"
_NODES_PER_QUERY: Final = 400


class HomeLogState:
    """A home log as far as this registry has verified it."""

    def __init__(self, origin: str, verifier_key: str, size: int, note: str, note_size: int, pending: str) -> None:
        self.origin = origin
        self.verifier_key = verifier_key
        self.size = size
        """How many leaves of the home's tree are known (every entry bundle read and hashed up to here)."""
        self.note = note
        """The newest checkpoint note verified (empty before the first), for a tree of ``note_size`` leaves."""
        self.note_size = note_size
        self.pending = pending
        """The checkpoint a sync that has not finished verified its leaves against (empty when none)."""


class FederationState:
    """See the module docstring; open with :meth:`open`, close when done."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    async def open(cls, data_dir: str | Path) -> FederationState:
        async def prepared(connection: aiosqlite.Connection, path: Path) -> FederationState:
            await migrate(connection, path, load_migrations("federation"))
            return cls(connection, path)

        return await open_database(data_dir, DATABASE_NAME, prepared)

    @staticmethod
    def exists(data_dir: str | Path) -> bool:
        return (Path(data_dir) / DATABASE_NAME).exists()

    async def close(self) -> None:
        await self._db.close()

    async def _write(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            for sql, parameters in statements:
                await db.execute(sql, parameters)
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")

    # --- peers ------------------------------------------------------------------------------------------------

    _PEER_COLUMNS: Final = (
        "name, url, patterns, mode, registry_key, token, homes, status, last_error, failures, last_sync, "
        "entries_taken, entries_refused"
    )

    @staticmethod
    def _peer(row: Sequence[Any]) -> Peer:
        return Peer(str(row[0]), str(row[1]), tuple(json.loads(row[2])), Mode(row[3]), str(row[4]), str(row[5]))

    async def peers(self) -> list[Peer]:
        rows = await self._db.execute_fetchall(f"SELECT {self._PEER_COLUMNS} FROM peers ORDER BY name")
        return [self._peer(row) for row in rows]

    async def peer(self, name: str) -> Peer:
        rows = await self._db.execute_fetchall(f"SELECT {self._PEER_COLUMNS} FROM peers WHERE name = ?", (name,))
        row = next(iter(rows), None)
        if row is None:
            raise NotFoundError(f"no peer {name!r}: dmg peer ls lists them")
        return self._peer(row)

    async def add_peer(self, peer: Peer, now: int) -> None:
        sql = (
            "INSERT INTO peers (name, url, patterns, mode, registry_key, token, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        values = (peer.name, peer.url, json.dumps(list(peer.patterns)), str(peer.mode), peer.registry_key, peer.token)
        await self._write([(sql, (*values, now))])

    async def remove_peer(self, name: str) -> None:
        peer = await self.peer(name)
        await self._write([("DELETE FROM peers WHERE name = ?", (peer.name,))])

    async def pin_key(self, name: str, registry_key: str) -> None:
        await self._write([("UPDATE peers SET registry_key = ? WHERE name = ?", (registry_key, name))])

    async def statuses(self) -> list[PeerStatus]:
        rows = await self._db.execute_fetchall(f"SELECT {self._PEER_COLUMNS} FROM peers ORDER BY name")
        found = []
        for row in rows:
            peer = self._peer(row)
            home = await self.home_log(peer.origin) if peer.origin else None
            found.append(
                PeerStatus(
                    peer=peer,
                    status=Status(row[7]),
                    homes=tuple(json.loads(row[6])),
                    last_error=str(row[8]),
                    failures=int(row[9]),
                    last_sync=int(row[10]),
                    synced_size=home.size if home else 0,
                    checkpoint_size=home.note_size if home else 0,
                    entries_taken=int(row[11]),
                    entries_refused=int(row[12]),
                    evidence=tuple(await self.evidence(peer.name)),
                )
            )
        return found

    async def status(self, name: str) -> PeerStatus:
        found = next((status for status in await self.statuses() if status.peer.name == name), None)
        if found is None:
            raise NotFoundError(f"no peer {name!r}: dmg peer ls lists them")
        return found

    async def synced(self, name: str, homes: Sequence[str], taken: int, refused: int, now: int) -> None:
        """A sync of ``name`` succeeded: it took ``taken`` entries and refused ``refused``."""
        sql = (
            "UPDATE peers SET status = ?, homes = ?, last_error = '', failures = 0, last_sync = ?, "
            "entries_taken = entries_taken + ?, entries_refused = entries_refused + ? WHERE name = ? AND status != ?"
        )
        values = (str(Status.OK), json.dumps(list(homes)), now, taken, refused, name, str(Status.QUARANTINED))
        await self._write([(sql, values)])

    async def failed(self, name: str, error: str, refused: int, now: int) -> None:
        sql = (
            "UPDATE peers SET status = ?, last_error = ?, failures = failures + 1, last_sync = ?, "
            "entries_refused = entries_refused + ? WHERE name = ? AND status != ?"
        )
        await self._write([(sql, (str(Status.FAILING), error[:2000], now, refused, name, str(Status.QUARANTINED)))])

    async def quarantine(self, name: str, origin: str, evidence: Evidence) -> None:
        await self._write(
            [
                (
                    "UPDATE peers SET status = ?, last_error = ?, last_sync = ? WHERE name = ?",
                    (str(Status.QUARANTINED), evidence.detail[:2000], evidence.time, name),
                ),
                (
                    "INSERT INTO evidence (peer, origin, kind, first, second, detail, time) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, origin, evidence.kind, evidence.first, evidence.second, evidence.detail, evidence.time),
                ),
            ]
        )

    async def evidence(self, name: str) -> list[Evidence]:
        sql = "SELECT kind, first, second, detail, time FROM evidence WHERE peer = ? ORDER BY id"
        rows = await self._db.execute_fetchall(sql, (name,))
        return [Evidence(str(kind), str(a), str(b), str(detail), int(time)) for kind, a, b, detail, time in rows]

    async def reset_trust(self, name: str) -> None:
        """Take from ``name`` again, from the start of its log: its evidence, pinned key and the state of its home
        log are forgotten (entries already taken stay; taking them again is a no-op)."""
        peer = await self.peer(name)
        statements: list[tuple[str, Sequence[Any]]] = [
            ("UPDATE peers SET status = ?, last_error = '', failures = 0, registry_key = '' WHERE name = ?",
             (str(Status.NEW), name)),
            ("DELETE FROM evidence WHERE peer = ?", (name,)),
        ]
        if peer.origin:
            for table in ("home_logs", "home_nodes", "home_entries"):
                statements.append((f"DELETE FROM {table} WHERE origin = ?", (peer.origin,)))
        await self._write(statements)

    # --- home logs --------------------------------------------------------------------------------------------

    _HOME_COLUMNS: Final = "origin, verifier_key, size, note, note_size, pending"

    @staticmethod
    def _home(row: Sequence[Any]) -> HomeLogState:
        return HomeLogState(str(row[0]), str(row[1]), int(row[2]), str(row[3]), int(row[4]), str(row[5]))

    async def home_log(self, origin: str) -> HomeLogState | None:
        sql = f"SELECT {self._HOME_COLUMNS} FROM home_logs WHERE origin = ?"
        row = next(iter(await self._db.execute_fetchall(sql, (origin,))), None)
        return None if row is None else self._home(row)

    async def home_logs(self) -> list[HomeLogState]:
        rows = await self._db.execute_fetchall(f"SELECT {self._HOME_COLUMNS} FROM home_logs ORDER BY origin")
        return [self._home(row) for row in rows]

    async def nodes(self, origin: str, nodes: Sequence[NodeId]) -> list[bytes]:
        """The stored hashes of complete subtrees of ``origin``'s tree, in order; StoreError if one is missing."""
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(nodes), _NODES_PER_QUERY):
            chunk = nodes[start : start + _NODES_PER_QUERY]
            values = ",".join("(?, ?)" for _ in chunk)
            sql = (
                f"WITH wanted (level, idx) AS (VALUES {values}) SELECT t.level, t.idx, t.hash FROM wanted w "
                "JOIN home_nodes t ON t.origin = ? AND t.level = w.level AND t.idx = w.idx"
            )
            rows = await self._db.execute_fetchall(sql, [*(number for node in chunk for number in node), origin])
            found.update(((int(level), int(idx)), bytes(value)) for level, idx, value in rows)
        missing = next((node for node in nodes if node not in found), None)
        if missing is not None:
            raise StoreError(f"the mirrored log {origin} has no hash at level {missing[0]}, index {missing[1]}")
        return [found[node] for node in nodes]

    async def advance(
        self,
        origin: str,
        verifier_key: str,
        size: int,
        nodes: Sequence[tuple[NodeId, bytes]],
        entries: Sequence[tuple[int, CID, str]],
        checkpoint: tuple[str, int],
    ) -> None:
        """Record that ``origin``'s tree is known up to ``size`` leaves (``nodes`` completing it), verified against
        ``checkpoint`` (note, size), and that ``entries`` (leaf, CID, namespace) were taken from it. When ``size``
        reaches the checkpoint's, it becomes the note served; until then it is the pending one."""
        note, note_size = checkpoint
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO home_logs (origin, verifier_key, size) VALUES (?, ?, ?) ON CONFLICT (origin) DO UPDATE "
                "SET verifier_key = excluded.verifier_key, size = excluded.size",
                (origin, verifier_key, size),
            )
        ]
        if size == note_size:
            statements.append(
                ("UPDATE home_logs SET note = ?, note_size = ?, pending = '' WHERE origin = ?", (note, size, origin))
            )
        else:
            statements.append(("UPDATE home_logs SET pending = ? WHERE origin = ?", (note, origin)))
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            for sql, parameters in statements:
                await db.execute(sql, parameters)
            await db.executemany(
                "INSERT OR REPLACE INTO home_nodes VALUES (?, ?, ?, ?)",
                [(origin, level, index, value) for (level, index), value in nodes],
            )
            await db.executemany(
                "INSERT OR REPLACE INTO home_entries VALUES (?, ?, ?, ?)",
                [(origin, leaf, cid.bytes, namespace) for leaf, cid, namespace in entries],
            )
            await db.executemany(
                "INSERT OR IGNORE INTO mirrored_namespaces VALUES (?, ?)",
                [(namespace, origin) for namespace in dict.fromkeys(namespace for _, _, namespace in entries)],
            )
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")

    async def leaf_of(self, origin: str, cid: CID) -> int | None:
        sql = "SELECT leaf FROM home_entries WHERE origin = ? AND cid = ?"
        row = next(iter(await self._db.execute_fetchall(sql, (origin, cid.bytes))), None)
        return None if row is None else int(row[0])

    async def mirrored_namespaces(self) -> dict[str, str]:
        """Every mirrored namespace and the origin of its home."""
        rows = await self._db.execute_fetchall("SELECT namespace, origin FROM mirrored_namespaces ORDER BY namespace")
        return {str(namespace): str(origin) for namespace, origin in rows}
