"""open_store: the backend a store URL names."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmg.core.errors import ConfigError
from dmg.store import open_store
from dmg.store.sqlite import DATABASE_NAME, SQLiteStore


@pytest.mark.parametrize("form", ["plain", "sqlite", "pathlike"])
async def test_a_directory_opens_the_embedded_store(tmp_path: Path, form: str) -> None:
    url = {"plain": str(tmp_path / "d"), "sqlite": f"sqlite:{tmp_path / 'd'}", "pathlike": tmp_path / "d"}[form]
    store = await open_store(url)
    try:
        assert isinstance(store, SQLiteStore)
        assert (tmp_path / "d" / DATABASE_NAME).exists()
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://user:secret@db.example/dmg", "PostgreSQL backend is not available"),
        ("sqlite:", "names no directory"),
        ("mysql://db/x", "use a directory, sqlite:PATH or postgresql://"),
    ],
)
async def test_other_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        await open_store(url)
    assert "secret" not in str(caught.value)
