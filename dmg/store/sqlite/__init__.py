"""The embedded store: one SQLite file in WAL mode (:mod:`.store`), its schema kept as numbered SQL migrations
(``migrations/NNNN_*.sql``)."""

from dmg.store.sqlite.store import DATABASE_NAME, SQLiteStore

__all__ = ["DATABASE_NAME", "SQLiteStore"]
