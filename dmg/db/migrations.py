"""Numbered schema migrations for an SQLite database, each applied once, in order, in its own transaction.

An owner keeps its migrations as files ``NNNN_<what>.sql`` in a package directory (read with
:mod:`importlib.resources`, so they ship inside the installed package). The version a database is at is kept in
its ``meta`` table (``key = 'schema'``); :func:`migrate` applies every migration above it, each inside
``BEGIN IMMEDIATE ... COMMIT`` together with the new version, so a crash leaves the file at the last version that
completed. Where a migration must compute data (hash existing entries, index existing records), the owner passes a
``steps`` hook for that version, run in the same transaction after the SQL. A database newer than the migrations
this code knows is refused rather than misread.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

import aiosqlite

from dmg.core.errors import StoreError

Step = Callable[[aiosqlite.Connection], Awaitable[None]]
"""Work a migration does beyond its SQL, inside its transaction."""

_FILE: Final = re.compile(r"(\d{4})_[a-z0-9_]+\.sql\Z")
_META: Final = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str, directory: str = "migrations") -> list[Migration]:
    """The migrations in ``<package>/<directory>``, numbered 1, 2, ... without gaps."""
    found: list[Migration] = []
    for item in resources.files(package).joinpath(directory).iterdir():
        match = _FILE.match(item.name)
        if match:
            found.append(Migration(int(match.group(1)), item.name, item.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    numbers = [migration.version for migration in found]
    if numbers != list(range(1, len(found) + 1)):
        raise StoreError(f"the migrations of {package} are not numbered 1 to {len(found)}: {numbers}")
    return found


async def schema_version(connection: aiosqlite.Connection) -> int:
    """The version a database is at: 0 for a new file."""
    await connection.execute(_META)
    rows = await connection.execute_fetchall("SELECT value FROM meta WHERE key = 'schema'")
    row = next(iter(rows), None)
    return 0 if row is None else int(row[0])


async def migrate(
    connection: aiosqlite.Connection, path: Path, migrations: list[Migration], steps: Mapping[int, Step] | None = None
) -> int:
    """Bring the database at ``path`` to the last of ``migrations``; return the version it was at before."""
    before = await schema_version(connection)
    latest = migrations[-1].version if migrations else 0
    if before > latest:
        raise StoreError(f"{path} has schema version {before}; this dmg understands up to {latest}: upgrade dmg")
    for migration in migrations[before:]:
        try:
            # executescript commits any open transaction first, so the transaction is begun inside the script.
            await connection.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}")
            step = (steps or {}).get(migration.version)
            if step is not None:
                await step(connection)
            await connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (str(migration.version),)
            )
        except BaseException:
            if connection.in_transaction:
                await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")
    return before
