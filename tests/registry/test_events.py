"""Registry events: every accepted entry, whatever the entry point, read durably by position and live."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from dmg.api.events import EventKind, RegistryEvent
from dmg.authoring.publisher import grant, unyank, yank
from dmg.core.bundle import Bundle
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.errors import DmgError
from dmg.core.keys import SigningKey
from dmg.core.semver import Version
from dmg.registry import Registry
from tests.support.registries import claim_namespace, publish

NAME = "com.example/function/evented"


async def history(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    """A claim, a grant, two releases, a yank and an unyank: one event of every kind."""
    await claim_namespace(registry, "com.example", key)
    other = SigningKey.from_seed(bytes(range(2, 34)))
    granted = grant("com.example", other.public_key, ["release"], key, await registry.log_head("com.example"), now_ms())
    await registry.submit_entry(granted.block()[1])
    await publish(registry, key, NAME, "1.0.0", bundle)
    await publish(registry, key, NAME, "1.1.0", bundle)
    dxn, version = DXN.parse(NAME), Version.parse("1.1.0")
    await registry.submit_entry(yank(dxn, version, "broken", key, await registry.log_head(NAME), now_ms()).block()[1])
    await registry.submit_entry(unyank(dxn, version, key, await registry.log_head(NAME), now_ms()).block()[1])


KINDS = [EventKind.CLAIM, EventKind.GRANT, EventKind.RELEASE, EventKind.RELEASE, EventKind.YANK, EventKind.UNYANK]


async def test_every_entry_is_an_event_at_its_position(registry: Registry, key: SigningKey, bundle: Bundle) -> None:
    await history(registry, key, bundle)
    events = await registry.entries_since(0)
    assert [event.kind for event in events] == KINDS
    assert [event.position for event in events] == [1, 2, 3, 4, 5, 6]
    assert [event.namespace for event in events] == ["com.example"] * 6
    assert str(events[2].dxn) == NAME and events[4].to_json()["reason"] == "broken"
    assert [event.position for event in await registry.entries_since(4, 1)] == [5]
    assert await registry.entries_since(6) == []
    # The envelope travels with the event, so a receiver verifies it without trusting the registry.
    assert RegistryEvent.from_block(3, events[2].cid, events[2].envelope) == events[2]


async def test_an_import_emits_the_entries_it_adds(tmp_path: Path, key: SigningKey, bundle: Bundle) -> None:
    async with await Registry.open(tmp_path / "home") as home, await Registry.open(tmp_path / "mirror") as mirror:
        await claim_namespace(home, "com.example", key)
        await publish(home, key, NAME, "1.0.0", bundle)
        received = mirror.subscribe(after=0)
        await mirror.import_car(await home.export([DXN.parse(NAME)]))
        events = [await asyncio.wait_for(anext(received), 5) for _ in range(2)]
        await received.aclose()
    assert [event.kind for event in events] == [EventKind.CLAIM, EventKind.RELEASE]


async def test_a_subscriber_resumes_after_its_cursor_without_gap_or_duplicate(
    tmp_path: Path, key: SigningKey, bundle: Bundle
) -> None:
    async with await Registry.open(tmp_path / "r") as registry:
        await history(registry, key, bundle)
    # A restart: the cursor (the last position seen) is all a subscriber keeps.
    async with await Registry.open(tmp_path / "r") as registry:
        resumed = registry.subscribe(after=2)
        seen = [await asyncio.wait_for(anext(resumed), 5) for _ in range(4)]
        assert [event.position for event in seen] == [3, 4, 5, 6]
        waiting = asyncio.ensure_future(anext(resumed))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await publish(registry, key, NAME, "2.0.0", bundle)
        assert (await asyncio.wait_for(waiting, 5)).position == 7
        await resumed.aclose()


async def test_a_live_subscriber_sees_only_what_comes_after(registry: Registry, key: SigningKey) -> None:
    await claim_namespace(registry, "com.early", key)
    live = registry.subscribe()
    first = asyncio.ensure_future(anext(live))
    await asyncio.sleep(0.05)
    await claim_namespace(registry, "com.late", key)
    event = await asyncio.wait_for(first, 5)
    assert (event.namespace, event.position) == ("com.late", 2)
    await live.aclose()
    assert registry.events.subscriber_count == 0


async def test_writes_by_another_process_reach_subscribers(tmp_path: Path, key: SigningKey) -> None:
    data = tmp_path / "shared"
    async with await Registry.open(data) as registry:
        live = registry.subscribe()
        waiting = asyncio.ensure_future(anext(live))
        await asyncio.sleep(0.05)
        script = (
            "import asyncio, sys\n"
            "from dmg.core.clock import now_ms\n"
            "from dmg.core.keys import SigningKey\n"
            "from dmg.authoring.publisher import claim\n"
            "from dmg.registry import Registry\n"
            "async def main():\n"
            "    async with await Registry.open(sys.argv[1]) as other:\n"
            "        key = SigningKey.from_seed(bytes(32))\n"
            "        head = await other.log_head('com.elsewhere')\n"
            "        await other.submit_entry(claim('com.elsewhere', [key], head, now_ms()).block()[1])\n"
            "asyncio.run(main())\n"
        )
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", script, str(data)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        event = await asyncio.wait_for(waiting, 2)
        assert (event.kind, event.namespace) == (EventKind.CLAIM, "com.elsewhere")
        await live.aclose()


@pytest.mark.parametrize(("position", "limit"), [(-1, 10), (0, 0), (0, 10_001), (True, 10)])
async def test_bad_positions_and_limits_are_refused(registry: Registry, position: int, limit: int) -> None:
    with pytest.raises(DmgError, match=r"position|limit"):
        await registry.entries_since(position, limit)


async def test_a_negative_cursor_is_refused(registry: Registry) -> None:
    with pytest.raises(DmgError, match="after"):
        await anext(registry.subscribe(after=-1))
