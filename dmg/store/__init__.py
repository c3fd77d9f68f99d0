"""Storage: the :class:`~dmg.store.base.Store` protocol every backend implements, and :func:`open_store`, which
picks the backend from a store URL.

Store URLs: a directory path or ``sqlite:PATH`` (the embedded SQLite store, :mod:`dmg.store.sqlite`, in that
directory), or ``postgresql://...`` (scale-out on PostgreSQL, not built yet: it is refused with a clear error).
Backends are imported when opened, so a process that uses one never loads the others.
"""

from __future__ import annotations

import os
from typing import Final

from dmg.core.errors import ConfigError
from dmg.store.base import Store

SQLITE_SCHEME: Final = "sqlite:"
POSTGRESQL_SCHEMES: Final = ("postgresql://", "postgres://")


async def open_store(url: str | os.PathLike[str]) -> Store:
    """The store ``url`` names (see the module docstring), opened."""
    text = os.fspath(url)
    if text.startswith(POSTGRESQL_SCHEMES):
        raise ConfigError(
            f"store {text.split('@')[-1]!r}: the PostgreSQL backend is not available in this version of dmg; "
            "use a data directory (the embedded SQLite store)"
        )
    if text.startswith(SQLITE_SCHEME):
        text = text[len(SQLITE_SCHEME) :]
        if not text:
            raise ConfigError("store 'sqlite:' names no directory: use sqlite:PATH")
    elif "://" in text:
        raise ConfigError(f"store {text!r}: use a directory, sqlite:PATH or postgresql://...")
    from dmg.store.sqlite import SQLiteStore

    return await SQLiteStore.open(text)
