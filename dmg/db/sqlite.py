"""Opening an SQLite database file the way every part of DMG does.

:func:`open_database` creates the data directory if need be and opens ``<data_dir>/<name>`` in autocommit mode
(transactions are explicit), with WAL, ``synchronous=NORMAL`` and foreign keys on, then hands the connection to the
owner's ``prepare`` (which usually runs :func:`dmg.db.migrations.migrate`). If ``prepare`` fails the connection is
closed; SQLite's errors become :class:`~dmg.core.errors.StoreError` naming the file.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiosqlite

from dmg.core.errors import StoreError

PreparedT = TypeVar("PreparedT")


async def open_database(
    data_dir: str | os.PathLike[str],
    name: str,
    prepare: Callable[[aiosqlite.Connection, Path], Awaitable[PreparedT]],
) -> PreparedT:
    """What ``prepare`` makes of a connection to ``<data_dir>/<name>`` (the directory is created if need be)."""
    directory = Path(data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create data directory {str(directory)!r}: {exc.strerror}") from exc
    path = directory / name
    try:
        connection = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute("PRAGMA foreign_keys=ON")
        return await prepare(connection, path)
    except BaseException as exc:
        await connection.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"cannot open {path}: {exc}") from exc
        raise
