"""The content-addressed block cache: blocks checked on the way in and out, bundles assembled from cache and
registry, damaged files noticed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmg.core.bundle import CHUNK_SIZE, Bundle, build_bundle
from dmg.core.cid import CID, RAW, write_varint
from dmg.core.errors import BundleError, StoreError
from orchestrator.cache import BlockCache
from tests.support.wasm import function_wasm


@pytest.fixture(scope="module")
def big() -> Bundle:
    """A real module padded past one chunk with a custom section, so it has several blocks."""
    wasm = function_wasm("echo")
    padding = b"\0" * (CHUNK_SIZE + 10)
    section = b"\x00" + write_varint(len(padding) + 4) + b"\x03pad" + padding
    return build_bundle(wasm + section, "wasi")


def test_put_get_and_refuse_a_mismatch(tmp_path: Path) -> None:
    cache = BlockCache(tmp_path / "blocks")
    cid = CID.of(b"hello", RAW)
    assert cache.get(cid) is None and cid not in cache
    cache.put(cid, b"hello")
    cache.put(cid, b"hello")
    assert cache.get(cid) == b"hello" and cid in cache
    with pytest.raises(StoreError, match="do not match the CID"):
        cache.put(CID.of(b"other", RAW), b"hello")
    assert [path.name for path in (tmp_path / "blocks").iterdir()] == [str(cid)]


def test_a_damaged_block_is_dropped(tmp_path: Path) -> None:
    cache = BlockCache(tmp_path)
    cid = CID.of(b"hello", RAW)
    cache.put(cid, b"hello")
    (tmp_path / str(cid)).write_bytes(b"jello")
    assert cache.get(cid) is None and cid not in cache


async def test_bundles_are_fetched_once_and_then_served_from_the_cache(tmp_path: Path, big: Bundle) -> None:
    blocks = dict(big.blocks())
    fetched: list[CID] = []

    async def fetch(cid: CID) -> bytes:
        fetched.append(cid)
        return blocks[cid]

    cache = BlockCache(tmp_path)
    wasm = await cache.bundle(big.cid, fetch)
    assert len(wasm) == big.size and sorted(fetched) == sorted(blocks)
    assert await cache.bundle(big.cid) == wasm
    assert len(fetched) == len(blocks)


async def test_a_missing_or_lying_block_fails_the_bundle(tmp_path: Path, big: Bundle) -> None:
    cache = BlockCache(tmp_path)
    with pytest.raises(BundleError, match="is missing"):
        await cache.bundle(big.cid)

    async def liar(cid: CID) -> bytes:
        return b"not the block"

    with pytest.raises(StoreError, match="do not match the CID"):
        await cache.bundle(big.cid, liar)
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_directory_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StoreError, match="cannot create the block cache"):
        BlockCache(tmp_path / "file" / "blocks")
