"""One test per attack on a client of a registry (TUF's list, and what transparency logs add), each showing the
client refuses.

Every test runs a real registry service and, in front of it, a small hostile proxy (a compromised mirror or
network) that forwards requests and tampers with the answers. Where the registry itself lies, the test writes to
the registry's own store the way a compromised registry would, skipping its checks (:func:`smuggle`). The client
goes through the proxy with a fresh trust store, exactly as ``dmg resolve``, ``show`` and ``export`` do.

These tests cross the client and the service; they are here, with the client, because the client's refusals are
their subject.
"""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dmg.authoring.publisher import PreparedRelease, claim, grant, release_bundle, revoke, unyank, yank
from dmg.client.errors import (
    BlockMismatchError,
    CheckpointRollbackError,
    InclusionError,
    LogForkError,
    RecordMismatchError,
    RegistryKeyError,
    StaleCheckpointError,
)
from dmg.client.http import HttpClient
from dmg.client.trust import TrustPolicy, TrustStore
from dmg.core import codec
from dmg.core.bundle import Bundle, build_bundle
from dmg.core.car import read_car, write_car
from dmg.core.checkpoint import NoteSigner
from dmg.core.clock import now_ms
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import BundleError, CARError, DmgError, SignatureError, TooLargeError, UnauthorizedError
from dmg.core.keys import SigningKey
from dmg.core.namelog import LogHead
from dmg.core.semver import Version
from dmg.registry import OPERATOR_KEY_FILE
from dmg.service.server import BackgroundServer
from tests.support.proxy import Proxy
from tests.support.registries import module_record, smuggle
from tests.support.servers import serve, server_settings

X = "com.example/function/x"
DAY_MS = 24 * 60 * 60 * 1000


@dataclass
class Scene:
    """A registry (``url``, ``data_dir``), a proxy in front of it, a victim client through the proxy, and a
    publisher writing to the registry directly."""

    url: str
    data_dir: Path
    proxy: Proxy
    client: HttpClient
    writer: HttpClient

    async def submit(self, envelope: Envelope) -> None:
        await self.writer.submit_entry(envelope)

    async def claim(self, key: SigningKey, namespace: str = "com.example") -> None:
        await self.submit(claim(namespace, [key], await self.writer.log_head(namespace), now_ms()))

    async def prepare(self, key: SigningKey, version: str, bundle: Bundle, **fields: Any) -> PreparedRelease:
        record = module_record(X, version, bundle, **fields)
        return release_bundle(record, bundle, key, await self.writer.log_head(X), now_ms())

    async def publish(self, key: SigningKey, version: str, bundle: Bundle) -> PreparedRelease:
        prepared = await self.prepare(key, version, bundle)
        await self.writer.publish(prepared.root, prepared.blocks())
        return prepared


@pytest.fixture(scope="module")
def proxy_server() -> Iterator[tuple[Proxy, str]]:
    proxy = Proxy()
    with serve(proxy.app) as url:
        yield proxy, url


def victim(url: str, trust_dir: Path, **policy: Any) -> HttpClient:
    return HttpClient(url, timeout=10, trust=TrustPolicy(TrustStore(trust_dir), **policy))


@pytest.fixture
async def scene(tmp_path: Path, proxy_server: tuple[Proxy, str]) -> AsyncIterator[Scene]:
    proxy, proxy_url = proxy_server
    with BackgroundServer(server_settings(tmp_path / "registry")) as url:
        proxy.reset(url)
        async with victim(proxy_url, tmp_path / "trust") as client, HttpClient(url, check_log=False) as writer:
            yield Scene(url, tmp_path / "registry", proxy, client, writer)


def upstream_checkpoint(url: str) -> str:
    return httpx.get(f"{url}/checkpoint").text


def rewrite_resolve(answer: dict[str, Any], **changes: Any) -> dict[str, Any]:
    answer["data"]["resolve"].update(changes)
    return answer


# --- arbitrary records --------------------------------------------------------------------------------------


async def test_an_unsigned_record_is_refused(scene: Scene, key: SigningKey, bundle: Bundle) -> None:
    await scene.claim(key)
    prepared = await scene.publish(key, "1.0.0", bundle)
    cid, data = codec.encode_block({"payload": prepared.record.to_dict(), "signatures": []})
    scene.proxy.answer(f"/ipfs/{cid}", data)

    async def unsigned(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        return rewrite_resolve(answer, cid=str(cid))

    scene.proxy.on_graphql("resolve(", unsigned)
    with pytest.raises(SignatureError, match="envelope has no signatures"):
        await scene.client.resolve(DXN.parse(X))


async def test_a_record_signed_by_another_key_is_refused(
    scene: Scene, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await scene.claim(key)
    genuine = await scene.publish(key, "1.0.0", bundle)
    forged = Envelope.sign(module_record(X, "1.0.0", bundle, description="trojan").to_dict(), [other_key])
    scene.proxy.answer(f"/ipfs/{forged.cid}", forged.block()[1])

    async def substitute(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        return rewrite_resolve(answer, cid=str(forged.cid))

    scene.proxy.on_graphql("resolve(", substitute)
    message = f"the signed log releases {X}@1.0.0 as record {genuine.record_envelope.cid}; the registry answered"
    with pytest.raises(RecordMismatchError, match=message):
        await scene.client.resolve(DXN.parse(X))


async def test_a_release_by_an_unauthorised_key_in_the_registrys_own_log_is_refused(
    scene: Scene, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    await smuggle(scene.data_dir, await scene.prepare(other_key, "1.1.0", bundle))
    assert (await scene.writer.resolve(DXN.parse(X))).version == Version(1, 1, 0), "the registry serves it"
    with pytest.raises(UnauthorizedError, match=r"does not hold together at leaf 2 .*no signer of a release"):
        await scene.client.resolve(DXN.parse(X))


async def test_a_revoked_key_cannot_sign_after_its_revocation(
    scene: Scene, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    await scene.claim(key)
    head = await scene.writer.log_head("com.example")
    await scene.submit(grant("com.example", other_key.public_key, ["grant", "release"], key, head, now_ms()))
    await scene.publish(key, "1.0.0", bundle)
    await scene.submit(
        revoke("com.example", key.public_key, other_key, await scene.writer.log_head("com.example"), now_ms())
    )
    before = await scene.client.verify(DXN.parse(f"{X}@1.0.0"))
    assert before.signers == (key.public_key.did,), "what it signed before the revocation stays valid"

    await smuggle(scene.data_dir, await scene.prepare(key, "1.1.0", bundle))
    with pytest.raises(UnauthorizedError, match=rf"at leaf 4 .*\(key {key.public_key.did} was revoked\)"):
        await scene.client.resolve(DXN.parse(X))


# --- rollback, fork, mix-and-match --------------------------------------------------------------------------


async def test_a_rollback_to_an_older_checkpoint_is_refused(scene: Scene, key: SigningKey, bundle: Bundle) -> None:
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    old = upstream_checkpoint(scene.url)
    await scene.publish(key, "1.1.0", bundle)
    assert (await scene.client.resolve(DXN.parse(X))).version == Version(1, 1, 0)
    scene.proxy.answer("/checkpoint", old.encode(), "text/plain; charset=utf-8")
    with pytest.raises(CheckpointRollbackError, match="covers 2 entries, fewer than the 3 this client verified"):
        await scene.client.resolve(DXN.parse(X))


async def test_a_forked_log_is_refused(
    scene: Scene, tmp_path: Path, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    """The registry keeps two logs under one key and shows each to different readers (a split view)."""
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    assert (await scene.client.resolve(DXN.parse(X))).version == Version(1, 0, 0)
    (tmp_path / "fork").mkdir()
    shutil.copy(scene.data_dir / OPERATOR_KEY_FILE, tmp_path / "fork" / OPERATOR_KEY_FILE)
    with BackgroundServer(server_settings(tmp_path / "fork")) as fork_url:
        async with HttpClient(fork_url, check_log=False) as fork:
            scene.writer = fork
            await scene.claim(other_key)
            await scene.publish(other_key, "1.0.0", bundle)
            scene.proxy.upstream = fork_url
            with pytest.raises(LogForkError, match="two different roots for the same tree size 2"):
                await scene.client.resolve(DXN.parse(X))
            await scene.publish(other_key, "1.1.0", bundle)
            with pytest.raises(LogForkError, match="at 3 entries is not an extension of the log of 2 entries"):
                await scene.client.resolve(DXN.parse(X))


async def test_entries_proven_in_another_checkpoint_are_refused(
    scene: Scene, key: SigningKey, other_key: SigningKey, bundle: Bundle
) -> None:
    """Mix-and-match: the checkpoint is current, the inclusion proofs are from an older tree."""
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    await scene.claim(other_key, "org.other")

    async def older_proofs(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        return {"data": await scene.proxy.graphql(asked["query"], {**asked["variables"], "size": 2})}

    scene.proxy.on_graphql("history(", older_proofs)
    with pytest.raises(InclusionError, match=r"is not leaf 0 of the registry's signed log of 3 entries"):
        await scene.client.resolve(DXN.parse(X))


async def test_a_replayed_old_entry_is_refused(scene: Scene, key: SigningKey, bundle: Bundle) -> None:
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    await scene.publish(key, "1.1.0", bundle)
    v110 = Version(1, 1, 0)
    await scene.submit(yank(DXN.parse(X), v110, "broken", key, await scene.writer.log_head(X), now_ms()))
    old_unyank = unyank(DXN.parse(X), v110, key, await scene.writer.log_head(X), now_ms())
    await scene.submit(old_unyank)
    await scene.submit(yank(DXN.parse(X), v110, "broken again", key, await scene.writer.log_head(X), now_ms()))
    with pytest.raises(DmgError, match="entry has seq 3, expected 5"):
        await scene.submit(old_unyank)
    assert (await scene.client.resolve(DXN.parse(X))).version == Version(1, 0, 0)

    replayed = {"envelope": base64.b64encode(old_unyank.block()[1]).decode()}

    async def in_place_of_the_last(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        for rows in answer["data"].values():
            if rows and rows[-1]["leafIndex"] == 5:
                rows[-1].update(replayed)
        return answer

    async def unyanked(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        versions = await scene.proxy.graphql(asked["query"], {**asked["variables"], "range": "1.1.0"})
        return {"data": {"resolve": {**versions["resolve"], "yanked": False}}}

    scene.proxy.on_graphql("history(", in_place_of_the_last)
    scene.proxy.on_graphql("resolve(", unyanked)
    with pytest.raises(InclusionError, match=rf"entry {old_unyank.cid} of {X} is not leaf 5"):
        await scene.client.resolve(DXN.parse(X))

    async def appended(asked: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        for rows in answer["data"].values():
            if rows and rows[-1]["leafIndex"] == 5:
                rows.append(next(row for row in rows if row["leafIndex"] == 4))
        return answer

    scene.proxy.graphql_changes[0] = ("history(", appended)
    with pytest.raises(InclusionError, match="out of log order"):
        await scene.client.resolve(DXN.parse(X))


# --- data -----------------------------------------------------------------------------------------------------


async def test_a_bundle_whose_bytes_do_not_match_the_record_is_refused(
    scene: Scene, key: SigningKey, bundle: Bundle, wasm: bytes
) -> None:
    await scene.claim(key)
    prepared = await scene.publish(key, "1.0.0", bundle)
    chunk = bundle.index.chunks[0]
    scene.proxy.answer(f"/ipfs/{chunk}", wasm[:-1] + b"\x01")
    with pytest.raises(BlockMismatchError, match=f"for block {chunk} that do not match its CID"):
        await scene.client.get_block(chunk)

    other = build_bundle(wasm + b"\x00\x03\x01x\x00", "wasi")  # the same module with one more custom section
    exported = (await scene.proxy.fetch("GET", "/api/v1/export", params={"dxn": X})).content
    honest = read_car(exported)
    swapped = {cid: data for cid, data in honest.blocks.items() if cid not in dict(bundle.blocks())}
    swapped.update(other.blocks())
    scene.proxy.answer("/api/v1/export", write_car(honest.roots, swapped.items()))
    with pytest.raises(BundleError, match=f"exported bundle of {X}@1.0.0 is not its record's"):
        await scene.client.export([DXN.parse(X)])

    tampered = bytearray(exported)
    tampered[exported.index(honest.blocks[chunk]) + 100] ^= 0x01
    scene.proxy.answer("/api/v1/export", bytes(tampered))
    with pytest.raises(CARError, match=f"{chunk}"):
        await scene.client.export([DXN.parse(X)])
    assert prepared.root in honest.roots


async def test_an_export_that_withholds_a_yank_is_refused(scene: Scene, key: SigningKey, bundle: Bundle) -> None:
    """A mirror importing it would resolve ranges to a version its registry yanked (issue 21, item 4)."""
    await scene.claim(key)
    prepared = await scene.publish(key, "1.0.0", bundle)
    head = await scene.writer.log_head(X)
    await scene.submit(yank(DXN.parse(X), Version.parse("1.0.0"), "broken", key, head, now_ms()))
    honest = read_car(await scene.client.export([DXN.parse(f"{X}@1.0.0")]))
    assert honest.roots[-1] != prepared.root  # the yank comes with the version
    scene.proxy.answer("/api/v1/export", write_car(honest.roots[:-1], honest.blocks.items()))
    with pytest.raises(RecordMismatchError, match=f"the export leaves {X}@1.0.0 not yanked; the registry's signed log"):
        await scene.client.export([DXN.parse(f"{X}@1.0.0")])


async def test_an_export_with_an_entry_outside_the_log_is_refused(
    scene: Scene, key: SigningKey, bundle: Bundle
) -> None:
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    honest = read_car((await scene.proxy.fetch("GET", "/api/v1/export", params={"dxn": X})).content)
    assert read_car(await scene.client.export([DXN.parse(X)])).roots == honest.roots
    stray = claim("org.stray", [key], LogHead(), now_ms())
    blocks = {**honest.blocks, stray.cid: stray.block()[1]}
    scene.proxy.answer("/api/v1/export", write_car([*honest.roots, stray.cid], blocks.items()))
    with pytest.raises(InclusionError, match=f"the exported entry {stray.cid} is not in the registry's signed log"):
        await scene.client.export([DXN.parse(X)])


async def endless(request: Request, upstream: httpx.Response) -> Response:
    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 65536
            await asyncio.sleep(0)

    return StreamingResponse(forever(), media_type="text/plain")


async def test_endless_answers_are_cut_off(
    scene: Scene, proxy_server: tuple[Proxy, str], tmp_path: Path, key: SigningKey, bundle: Bundle
) -> None:
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    scene.proxy.on("/checkpoint", endless)
    with pytest.raises(TooLargeError, match="passed the 65536-byte limit"):
        await scene.client.resolve(DXN.parse(X))
    del scene.proxy.rewrites["/checkpoint"]

    async def endless_graphql(request: Request, upstream: httpx.Response) -> Response:
        if b"history(" in await request.body():
            return await endless(request, upstream)
        return Response(upstream.content, media_type="application/json")

    scene.proxy.on("/graphql", endless_graphql)
    small = HttpClient(proxy_server[1], max_response_bytes=1 << 20, trust=TrustPolicy(TrustStore(tmp_path / "t2")))
    async with small:
        with pytest.raises(TooLargeError, match="passed the 1048576-byte limit"):
            await small.resolve(DXN.parse(X))


# --- freeze and keys ----------------------------------------------------------------------------------------


async def test_a_frozen_registry_is_reported(
    scene: Scene, proxy_server: tuple[Proxy, str], tmp_path: Path, key: SigningKey, bundle: Bundle
) -> None:
    """The proxy keeps serving the checkpoint of today; two days later the client refuses it as stale."""
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    frozen = upstream_checkpoint(scene.url)
    scene.proxy.answer("/checkpoint", frozen.encode(), "text/plain; charset=utf-8")
    later = victim(proxy_server[1], tmp_path / "later", clock=lambda: now_ms() + 2 * DAY_MS)
    async with later:
        with pytest.raises(StaleCheckpointError, match=r"signed 2 days ago .* may be frozen"):
            await later.resolve(DXN.parse(X))
    strict = victim(proxy_server[1], tmp_path / "strict", max_age_ms=1)
    async with strict:
        await asyncio.sleep(0.01)
        with pytest.raises(StaleCheckpointError, match="more than the allowed 0 seconds"):
            await strict.resolve(DXN.parse(X))
    earlier = victim(proxy_server[1], tmp_path / "earlier", clock=lambda: now_ms() - DAY_MS)
    async with earlier:
        with pytest.raises(StaleCheckpointError, match=r"signed 2\d hours in the future .*check this machine.s clock"):
            await earlier.resolve(DXN.parse(X))


async def test_a_registry_signing_with_another_key_is_refused(
    scene: Scene, proxy_server: tuple[Proxy, str], tmp_path: Path, key: SigningKey, bundle: Bundle
) -> None:
    await scene.claim(key)
    await scene.publish(key, "1.0.0", bundle)
    await scene.client.resolve(DXN.parse(X))
    pinned = TrustStore(tmp_path / "trust").pinned_key(proxy_server[1])
    assert pinned is not None and pinned == await scene.writer.log_verifier_key()
    with BackgroundServer(server_settings(tmp_path / "impostor")) as impostor:
        async with HttpClient(impostor, check_log=False) as mirror:
            await mirror.import_car(await scene.writer.export([DXN.parse(X)]))
        scene.proxy.upstream = impostor
        with pytest.raises(
            RegistryKeyError, match=f"signs its log with the key .*, not the pinned {re.escape(pinned)}"
        ):
            await scene.client.resolve(DXN.parse(X))
    scene.proxy.upstream = scene.url
    wrong = victim(proxy_server[1], tmp_path / "explicit", registry_key="dmg.local/x+00000000+" + "A" * 44)
    async with wrong:
        with pytest.raises(SignatureError, match=r"pinned key .* is not a note verifier key"):
            await wrong.resolve(DXN.parse(X))
    vkey = NoteSigner(pinned.split("+")[0], Ed25519PrivateKey.generate()).verifier().to_vkey()
    given = victim(proxy_server[1], tmp_path / "given", registry_key=vkey)
    async with given:
        with pytest.raises(RegistryKeyError, match=f"not the pinned {re.escape(vkey)}"):
            await given.resolve(DXN.parse(X))
