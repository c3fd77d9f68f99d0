"""Module search in the SQLite store: full text, exact filters, paging, the index following commits, and the
migration of a schema-1 file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dmg.api.paging import MAX_PAGE_SIZE
from dmg.core.bundle import Bundle
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import DmgError
from dmg.core.keys import SigningKey
from dmg.core.records import FunctionSpec, Requirement
from dmg.core.semver import Version
from dmg.registry import Registry
from dmg.store.base import ModuleQuery, SearchDocument
from dmg.store.sqlite import DATABASE_NAME
from tests.support.registries import claim_namespace, module_record, prepare, publish

MAIL = "com.example/function/mail-bridge"
INDEXER = "com.example/function/universal-indexer"
CHAT = "org.chat/service/chat-relay"


async def populate(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await claim_namespace(registry, "com.example", key)
    await claim_namespace(registry, "org.chat", key)
    await publish(
        registry,
        key,
        MAIL,
        "1.0.0",
        bundle,
        description="Mirrors an IMAP mailbox into a space",
        functions=(FunctionSpec(name="sync", description="Fetch new mail"),),
        provides=((DXN.parse("com.example/api/mail"), Version.parse("1.0.0")),),
    )
    await publish(registry, key, MAIL, "1.1.0", bundle, description="Mirrors an IMAP mailbox into a space")
    await publish(
        registry,
        key,
        INDEXER,
        "0.3.0",
        bundle,
        description="Full-text search over every space",
        functions=(FunctionSpec(name="reindex", description="Rebuild the index from mail and notes"),),
        requires=(Requirement(dxn=DXN.parse("com.example/api/mail"), spec="^1.0"),),
    )
    await publish(registry, key, CHAT, "2.0.0", bundle, description="Relays chat messages")


async def names(registry: Registry, **fields: object) -> list[str]:
    page = await registry.store.search_modules(ModuleQuery(**fields))  # type: ignore[arg-type]
    return [str(dxn) for dxn in page.dxns]


async def test_full_text_ranks_name_matches_first(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await populate(registry, key, bundle)
    # "mail" is in mail-bridge's name and in a function description of the indexer: the name weighs more.
    assert await names(registry, text="mail") == [MAIL, INDEXER]
    assert await names(registry, text="IMAP mailbox") == [MAIL]
    assert await names(registry, text="reindex") == [INDEXER]
    assert await names(registry, text="relay") == [CHAT]
    assert await names(registry, text="nothing-like-this") == []


async def test_query_syntax_cannot_be_injected(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await populate(registry, key, bundle)
    assert await names(registry, text='mail" OR NEAR(x') == []
    assert await names(registry, text="* ( ) :") == [MAIL, INDEXER, CHAT]


async def test_exact_filters(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await populate(registry, key, bundle)
    assert await names(registry) == [MAIL, INDEXER, CHAT]
    assert await names(registry, namespace="com.example") == [MAIL, INDEXER]
    assert await names(registry, namespace="com") == []
    assert await names(registry, kind="service") == [CHAT]
    assert await names(registry, kind="func") == []
    assert await names(registry, api="com.example/api/mail") == [MAIL, INDEXER]
    assert await names(registry, api="com.example/api/mail", text="imap") == [MAIL]
    assert await names(registry, namespace="org.chat", kind="function") == []


async def test_paging_and_total(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await populate(registry, key, bundle)
    first = await registry.store.search_modules(ModuleQuery(limit=2))
    rest = await registry.store.search_modules(ModuleQuery(limit=2, offset=2))
    assert [str(d) for d in first.dxns + rest.dxns] == [MAIL, INDEXER, CHAT]
    assert first.total == rest.total == 3
    ranked = await registry.store.search_modules(ModuleQuery(text="mail", limit=1, offset=1))
    assert [str(d) for d in ranked.dxns] == [INDEXER] and ranked.total == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"limit": 0}, "page size 0"),
        ({"limit": MAX_PAGE_SIZE + 1}, "page size"),
        ({"offset": -1}, "must not be negative"),
        ({"text": " ".join(["w"] * 17)}, "at most 16"),
    ],
)
def test_bad_queries_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(DmgError, match=message):
        ModuleQuery(**fields)  # type: ignore[arg-type]


async def test_refused_publish_leaves_the_index_alone(
    registry: Registry, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await populate(registry, key, bundle)
    forged = await prepare(registry, other_key, MAIL, "3.0.0", bundle, description="zebra")  # type: ignore[arg-type]
    with pytest.raises(DmgError):
        await registry.publish(forged.root, forged.blocks())
    assert await names(registry, text="zebra") == []


def test_search_document_of_a_record_block(bundle: Bundle, key: SigningKey) -> None:
    record = module_record(
        MAIL,
        "1.0.0",
        bundle,
        requires=(Requirement(dxn=DXN.parse("org.dxos/api/echo"), spec="^0.1"),),
        provides=((DXN.parse("com.example/api/mail"), Version.parse("1.0.0")),),
    )
    document = SearchDocument.from_record_block(Envelope.sign(record.to_dict(), [key]).block()[1])
    assert document.name == MAIL
    assert document.functions == "run runs"
    assert document.apis == ("com.example/api/mail", "org.dxos/api/echo")


async def test_schema_1_file_is_migrated(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "r") as registry:
        await populate(registry, key, bundle)
    with sqlite3.connect(tmp_path / "r" / DATABASE_NAME) as connection:
        connection.execute("DROP TABLE module_text")
        connection.execute("DROP TABLE module_apis")
        connection.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    async with await Registry.open(tmp_path / "r") as registry:
        assert await names(registry, text="mail") == [MAIL, INDEXER]
        assert await names(registry, api="com.example/api/mail") == [MAIL, INDEXER]
    with sqlite3.connect(tmp_path / "r" / DATABASE_NAME) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("3",)
