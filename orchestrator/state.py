"""The orchestrator's persistent state: installed functions and their invocation records, in one SQLite file.

``<data>/orchestrator.sqlite3`` (WAL, via aiosqlite) holds:

- ``functions``: one row per installed module: its DXN and version, the CID and bytes of its signed record (verified
  again whenever it is loaded), its life-cycle state, the resources it was granted, and whether it was installed
  by name or as a dependency;
- ``invocations``: one row per invocation: its input, then its result or its error, its log, fuel, peak memory and
  duration. Invocations queued while their function is paused are written when they arrive (so none is lost) and
  updated when delivered; others are written once they end. Finished records beyond the newest ``keep`` of a
  function are pruned.

Rows are plain values (:class:`FunctionRow`, :class:`InvocationRow`); what they mean is the orchestrator's
business. A function's invocations go when the function does.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import aiosqlite

from dmg.core.cid import CID
from dmg.core.errors import ConflictError, NotFoundError, StoreError
from dmg.db.migrations import load_migrations, migrate
from dmg.db.sqlite import open_database
from orchestrator.lifecycle import FunctionState

DATABASE_NAME: Final = "orchestrator.sqlite3"
class InvocationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED: Final = (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.CANCELLED)


@dataclass(frozen=True)
class FunctionRow:
    """One installed module."""

    dxn: str
    version: str
    record: CID
    record_block: bytes
    state: FunctionState
    granted: dict[str, Any]
    root: bool
    installed_at: int
    updated_at: int


@dataclass(frozen=True)
class InvocationRow:
    """One invocation; ``seq`` orders them (0 until written), ``error`` is ``{"code", "kind", "detail", ...}``."""

    id: str
    dxn: str
    function: str
    status: InvocationStatus
    input: Any
    created_at: int
    output: Any = None
    error: dict[str, Any] | None = None
    logs: str = ""
    fuel_used: int | None = None
    peak_memory: int | None = None
    duration_ms: float | None = None
    finished_at: int | None = None
    seq: int = 0


_FUNCTION_COLUMNS: Final = "dxn, version, record_cid, record_block, state, granted, root, installed_at, updated_at"
_INVOCATION_COLUMNS: Final = (
    "seq, id, dxn, function, status, input, output, error, logs, fuel_used, peak_memory, duration_ms, created_at, "
    "finished_at"
)


def _function(row: sqlite3.Row | tuple[Any, ...]) -> FunctionRow:
    dxn, version, record, block, state, granted, root, installed_at, updated_at = row
    return FunctionRow(
        dxn, version, CID.parse(record), bytes(block), FunctionState(state), json.loads(granted), bool(root),
        installed_at, updated_at,
    )  # fmt: skip


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str | None:
    return None if value is None else _dumps(value)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _invocation(row: sqlite3.Row | tuple[Any, ...]) -> InvocationRow:
    seq, id_, dxn, function, status, input_, output, error, logs, fuel, memory, duration, created, finished = row
    return InvocationRow(
        id=id_, dxn=dxn, function=function, status=InvocationStatus(status), input=_loads(input_),
        created_at=created, output=_loads(output), error=_loads(error), logs=logs, fuel_used=fuel,
        peak_memory=memory, duration_ms=duration, finished_at=finished, seq=seq,
    )  # fmt: skip


def _invocation_values(row: InvocationRow) -> tuple[Any, ...]:
    return (
        row.id, row.dxn, row.function, str(row.status), _dumps(row.input), _json(row.output), _json(row.error),
        row.logs, row.fuel_used, row.peak_memory, row.duration_ms, row.created_at, row.finished_at,
    )  # fmt: skip


def _status_filter(status: InvocationStatus, dxn: str | None) -> tuple[str, list[str]]:
    return ("status = ?", [str(status)]) if dxn is None else ("status = ? AND dxn = ?", [str(status), dxn])


class StateStore:
    """The state database of one orchestrator; open with :meth:`open`, close when done."""

    def __init__(self, connection: aiosqlite.Connection, path: Path, keep: int) -> None:
        self._db = connection
        self.path = path
        self.keep = keep

    @classmethod
    async def open(cls, data_dir: str | Path, *, keep: int = 200) -> StateStore:
        """Open (creating if needed) the state in ``data_dir``, keeping the newest ``keep`` finished invocation
        records of each function."""
        if keep < 1:
            raise StoreError(f"keep: at least one invocation record per function is kept, not {keep}")

        async def prepared(connection: aiosqlite.Connection, path: Path) -> StateStore:
            await migrate(connection, path, load_migrations("orchestrator"))
            return cls(connection, path, keep)

        return await open_database(data_dir, DATABASE_NAME, prepared)

    async def close(self) -> None:
        await self._db.close()

    async def _rows(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        async with self._db.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    # --- functions ------------------------------------------------------------------------------------------

    async def functions(self) -> list[FunctionRow]:
        """Every installed function, by name."""
        return [_function(row) for row in await self._rows(f"SELECT {_FUNCTION_COLUMNS} FROM functions ORDER BY dxn")]

    async def function(self, dxn: str) -> FunctionRow | None:
        rows = await self._rows(f"SELECT {_FUNCTION_COLUMNS} FROM functions WHERE dxn = ?", (dxn,))
        return _function(rows[0]) if rows else None

    async def add_functions(self, rows: Iterable[FunctionRow]) -> None:
        """Add functions in one transaction: all of them, or (when one is installed already) none."""
        values = [
            (row.dxn, row.version, str(row.record), row.record_block, str(row.state), _json(row.granted),
             int(row.root), row.installed_at, row.updated_at)
            for row in rows
        ]  # fmt: skip
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            await self._db.executemany(
                f"INSERT INTO functions ({_FUNCTION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", values
            )
        except sqlite3.IntegrityError as exc:
            await self._db.execute("ROLLBACK")
            raise ConflictError(f"a function of this install is installed already: {exc}") from exc
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    async def set_state(self, dxn: str, state: FunctionState, now: int) -> None:
        await self._db.execute("UPDATE functions SET state = ?, updated_at = ? WHERE dxn = ?", (str(state), now, dxn))

    async def remove_function(self, dxn: str) -> None:
        """Remove the function and every record of its invocations."""
        await self._db.execute("DELETE FROM functions WHERE dxn = ?", (dxn,))

    # --- invocations ----------------------------------------------------------------------------------------

    async def add_invocation(self, row: InvocationRow) -> InvocationRow:
        """Write a new invocation record (queued, or finished); prunes the function's oldest finished ones.

        :class:`NotFoundError` when the function is not installed (it was destroyed while the invocation ran).
        """
        columns = _INVOCATION_COLUMNS.removeprefix("seq, ")
        try:
            async with self._db.execute(
                f"INSERT INTO invocations ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", _invocation_values(row)
            ) as cursor:
                seq = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            if "FOREIGN KEY" not in str(exc):
                raise
            raise NotFoundError(f"{row.dxn} is not installed; the record of invocation {row.id} is dropped") from exc
        if row.status in FINISHED:
            await self._prune(row.dxn)
        return replace(row, seq=seq or 0)

    async def finish_invocation(self, row: InvocationRow) -> None:
        """Record how a queued invocation ended (or that its delivery began: status ``running``)."""
        await self._db.execute(
            "UPDATE invocations SET status = ?, output = ?, error = ?, logs = ?, fuel_used = ?, peak_memory = ?, "
            "duration_ms = ?, finished_at = ? WHERE id = ?",
            (str(row.status), _json(row.output), _json(row.error), row.logs, row.fuel_used, row.peak_memory,
             row.duration_ms, row.finished_at, row.id),
        )  # fmt: skip
        if row.status in FINISHED:
            await self._prune(row.dxn)

    async def _prune(self, dxn: str) -> None:
        finished = ",".join("?" * len(FINISHED))
        await self._db.execute(
            f"DELETE FROM invocations WHERE dxn = ? AND status IN ({finished}) AND seq <= ("
            f"SELECT seq FROM invocations WHERE dxn = ? AND status IN ({finished}) ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (dxn, *map(str, FINISHED), dxn, *map(str, FINISHED), self.keep),
        )

    async def invocation(self, invocation_id: str) -> InvocationRow | None:
        rows = await self._rows(f"SELECT {_INVOCATION_COLUMNS} FROM invocations WHERE id = ?", (invocation_id,))
        return _invocation(rows[0]) if rows else None

    async def invocations(self, dxn: str, *, after: int = 0, limit: int = 100) -> list[InvocationRow]:
        """The function's invocation records after ``seq`` ``after``, oldest first, at most ``limit``."""
        sql = f"SELECT {_INVOCATION_COLUMNS} FROM invocations WHERE dxn = ? AND seq > ? ORDER BY seq LIMIT ?"
        return [_invocation(row) for row in await self._rows(sql, (dxn, after, limit))]

    async def with_status(self, status: InvocationStatus, dxn: str | None = None) -> list[InvocationRow]:
        """Invocations in ``status`` (of one function, or of all), oldest first."""
        where, parameters = _status_filter(status, dxn)
        sql = f"SELECT {_INVOCATION_COLUMNS} FROM invocations WHERE {where} ORDER BY seq"
        return [_invocation(row) for row in await self._rows(sql, parameters)]

    async def count_queued(self, dxn: str | None = None) -> int:
        """Invocations queued for ``dxn``, or for every function."""
        where, parameters = _status_filter(InvocationStatus.QUEUED, dxn)
        rows = await self._rows(f"SELECT count(*) FROM invocations WHERE {where}", parameters)
        return int(rows[0][0])

    async def end_unfinished(
        self, status: InvocationStatus, error: dict[str, Any], now: int, dxn: str | None = None
    ) -> int:
        """End every invocation in ``status`` (of ``dxn``, or of all) as ``failed`` or ``cancelled`` with ``error``;
        returns how many."""
        outcome = InvocationStatus.CANCELLED if status is InvocationStatus.QUEUED else InvocationStatus.FAILED
        where, parameters = _status_filter(status, dxn)
        async with self._db.execute(
            f"UPDATE invocations SET status = ?, error = ?, finished_at = ? WHERE {where}",
            (str(outcome), _json(error), now, *parameters),
        ) as cursor:
            return cursor.rowcount
