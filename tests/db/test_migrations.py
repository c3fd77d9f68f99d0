"""Numbered SQLite migrations: applied once, in order, each in one transaction; a failure leaves the last version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from dmg.core.errors import StoreError
from dmg.db.migrations import load_migrations, migrate, schema_version
from dmg.db.sqlite import open_database


def package(root: Path, name: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    directory = root / name / "migrations"
    directory.mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    for file, sql in files.items():
        (directory / file).write_text(sql)
    monkeypatch.syspath_prepend(str(root))
    return name


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_migrations_apply_in_order_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = package(
        tmp_path,
        "mig_ordered",
        {"0002_more.sql": "CREATE TABLE b (x);", "0001_first.sql": "CREATE TABLE a (x);", "notes.txt": "ignored"},
        monkeypatch,
    )
    migrations = load_migrations(name)
    assert [migration.version for migration in migrations] == [1, 2]

    async def prepared(connection: aiosqlite.Connection, path: Path) -> int:
        before = await migrate(connection, path, migrations)
        await connection.close()
        return before

    assert await open_database(tmp_path / "data", "x.sqlite3", prepared) == 0
    assert await open_database(tmp_path / "data", "x.sqlite3", prepared) == 2
    assert {"a", "b", "meta"} <= tables(tmp_path / "data" / "x.sqlite3")


async def test_a_failing_step_rolls_its_migration_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = package(
        tmp_path, "mig_failing", {"0001_a.sql": "CREATE TABLE a (x);", "0002_b.sql": "CREATE TABLE b (x);"}, monkeypatch
    )

    async def broken(connection: aiosqlite.Connection) -> None:
        await connection.execute("INSERT INTO b VALUES (1)")
        raise StoreError("the step failed")

    async def prepared(connection: aiosqlite.Connection, path: Path) -> None:
        await migrate(connection, path, load_migrations(name), {2: broken})

    with pytest.raises(StoreError, match="the step failed"):
        await open_database(tmp_path, "x.sqlite3", prepared)
    assert "b" not in tables(tmp_path / "x.sqlite3")
    async with aiosqlite.connect(tmp_path / "x.sqlite3") as connection:
        assert await schema_version(connection) == 1


async def test_bad_sql_rolls_back_and_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = package(tmp_path, "mig_bad_sql", {"0001_a.sql": "CREATE TABLE a (x); CREATE TABLE oops ("}, monkeypatch)

    async def prepared(connection: aiosqlite.Connection, path: Path) -> None:
        await migrate(connection, path, load_migrations(name))

    with pytest.raises(StoreError, match="cannot open"):
        await open_database(tmp_path, "x.sqlite3", prepared)
    assert "a" not in tables(tmp_path / "x.sqlite3")


async def test_a_newer_database_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = package(tmp_path, "mig_newer", {"0001_a.sql": "CREATE TABLE a (x);"}, monkeypatch)

    async def prepared(connection: aiosqlite.Connection, path: Path) -> None:
        await migrate(connection, path, load_migrations(name))
        await connection.close()

    await open_database(tmp_path, "x.sqlite3", prepared)
    with sqlite3.connect(tmp_path / "x.sqlite3") as connection:
        connection.execute("UPDATE meta SET value = '7' WHERE key = 'schema'")
    with pytest.raises(StoreError, match="schema version 7; this dmg understands up to 1"):
        await open_database(tmp_path, "x.sqlite3", prepared)


def test_gaps_in_the_numbering_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = package(tmp_path, "mig_gap", {"0001_a.sql": "", "0003_c.sql": ""}, monkeypatch)
    with pytest.raises(StoreError, match=r"not numbered 1 to 2: \[1, 3\]"):
        load_migrations(name)


def test_the_shipped_migrations_load() -> None:
    assert [migration.version for migration in load_migrations("dmg.store.sqlite")] == [1, 2, 3]
    assert [migration.version for migration in load_migrations("orchestrator")] == [1]
