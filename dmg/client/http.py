"""A :class:`~dmg.client.base.RegistryClient` for a registry service over HTTP, that never trusts the server.

Requests follow the registry's HTTP contract (served by :mod:`dmg.service.app`): REST for log heads, writes,
blocks, CARs and signed checkpoints, GraphQL at ``/graphql`` for questions about names, versions and log proofs.
Every answer is checked before it is returned (:mod:`dmg.client.verify`): blocks against their CIDs, envelopes
strictly decoded with every signature verified, records against what the server claimed they were. Then, by
default, every module the client relies on (``resolve``, ``module``, ``export``) is checked against the registry's
transparency log (:mod:`dmg.client.transparency`): its checkpoint signed by the pinned key, fresh and consistent
with the last one seen, the namespace and DXN logs included in it and replayed, and the answer agreeing with them.
Every response is read as a stream and cut off past a byte limit, so an endless or oversized answer cannot exhaust
memory; the timeout bounds each network wait (not a whole transfer, so that slow links can still move large
bundles). Error answers become the typed :class:`~dmg.core.errors.DmgError` their code names.

Large uploads and downloads report progress to :attr:`HttpClient.progress` when it is set (the CLI draws a bar).

What this client does not do: retry or cache (besides the trust store's pins and last checkpoints). ``fsck``
needs direct access to a store and is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any, Final, TypeVar

import httpx

from dmg.api import media, paths
from dmg.api.discovery import Discovery, DiscoveryError
from dmg.api.events import RegistryEvent
from dmg.api.results import (
    FsckReport,
    ImportResult,
    ModuleInfo,
    PublishResult,
    Resolution,
    SearchHit,
    SearchPage,
    VersionInfo,
)
from dmg.client.errors import InclusionError, MalformedResponseError, RecordMismatchError, RegistryUnavailableError
from dmg.client.transparency import LogVerifier, ProvenEntry, Verification
from dmg.client.trust import TrustPolicy
from dmg.client.verify import (
    check_log_head,
    check_positions,
    check_resolution,
    verified_block,
    verified_entry,
    verified_event,
    verified_export,
    verified_record,
)
from dmg.core.car import MAX_BLOCK_SIZE, read_car, write_car
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.envelope import Envelope
from dmg.core.errors import ERROR_CLASSES, DmgError, NotFoundError, TooLargeError
from dmg.core.namelog import LogHead
from dmg.core.records import ModuleRecord, Release, parse_entry
from dmg.core.semver import Range, Version
from dmg.core.tlog import HASH_SIZE, MAX_ENTRY_SIZE, TILE_WIDTH, Tile

T = TypeVar("T")

TransferProgress = Callable[[int, int | None], None]
"""Called with the bytes transferred so far and the total (None while the total is unknown)."""

DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_RESPONSE_BYTES: Final = 1 << 30
"""Largest response read by default (1 GiB): an export carries whole bundles."""

MAX_JSON_BYTES: Final = 16 << 20
"""Largest JSON answer read, whatever ``max_response_bytes`` allows; JSON answers are small."""

MAX_ERROR_BYTES: Final = 64 << 10
MAX_CHECKPOINT_BYTES: Final = 64 << 10
"""Largest signed checkpoint read: a note of at most 100 signatures is a few KiB."""
MAX_PROOF_HASHES: Final = 64
"""No proof in a tree of fewer than 2**64 leaves has more hashes."""
UPLOAD_CHUNK_SIZE: Final = 64 << 10


_RESOLVE: Final = """
query Resolve($dxn: String!, $range: String) {
  resolve(dxn: $dxn, range: $range) { dxn version cid bundle yanked }
}"""
_MODULE: Final = """
query Module($dxn: String!, $version: String!) {
  module(dxn: $dxn, version: $version) { dxn version cid bundle yanked yankReason publishedAt publisher }
}"""
_VERSIONS: Final = """
query Versions($dxn: String!) {
  versions(dxn: $dxn) { version cid entry yanked yankReason publishedAt publisher }
}"""
# ``first`` is written into the document: a server prices a page by the literal size, and prices a variable at
# its largest allowed page.
_SEARCH: Final = """
query Search($query: String, $namespace: String, $kind: String, $after: String) {
  modules(query: $query, namespace: $namespace, kind: $kind, first: %d, after: $after) {
    edges { node { dxn version cid description yanked } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""


_EVENTS: Final = """
query Events($after: Int!, $first: Int) { events(after: $after, first: $first) { position cid envelope } }"""
_SUBSCRIBE_EVENTS: Final = "subscription Events($after: Int) { events(after: $after) { position cid envelope } }"
WS_PROTOCOL: Final = "graphql-transport-ws"
MAX_EVENT_MESSAGE_BYTES: Final = 256 << 10
"""Largest subscription message read: one event carries an entry of at most 64 KiB, base64."""

# Every question about a transparency log names the log: null for the registry's own, or the origin of a home log
# it mirrors (``Namespace.home``).
_CHECKPOINT_KEY: Final = "query CheckpointKey($log: String) { checkpoint(log: $log) { verifierKey } }"
_CHECKPOINT_NOTE: Final = "query CheckpointNote($log: String) { checkpoint(log: $log) { note } }"
_CHECKPOINT_SIZE: Final = "query CheckpointSize { checkpoint { size } }"
_CONSISTENCY: Final = """
query Consistency($from: Int!, $to: Int!, $log: String) { consistencyProof(from: $from, to: $to, log: $log) }"""
_HOME: Final = "query Home($name: String!) { namespace(name: $name) { home } }"


def _history_query(count: int) -> str:
    """One query for the entries of ``count`` logs (``$log0``, ...), each with its proof in the tree of ``$size``
    of the transparency log ``$in``."""
    variables = "".join(f", $log{index}: String!" for index in range(count))
    fields = " ".join(
        f"log{index}: history(dxn: $log{index}, log: $in) {{ leafIndex envelope inclusionProof(size: $size) }}"
        for index in range(count)
    )
    return f"query History($size: Int!, $in: String{variables}) {{ {fields} }}"


# --- reading JSON answers -----------------------------------------------------------------------------------


def _field(data: Any, key: str, kind: type[T], where: str) -> T:
    if not isinstance(data, dict):
        raise MalformedResponseError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if key not in data:
        raise MalformedResponseError(f"{where}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedResponseError(f"{where}: field {key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _claimed(found: Mapping[str, Any], where: str) -> Resolution:
    """What a ``resolve`` or ``module`` answer claims, parsed; it is checked against the signed record next."""
    return Resolution(
        _parsed(found, "dxn", DXN.parse, where),
        _parsed(found, "version", Version.parse, where),
        _parsed(found, "cid", CID.parse, where),
        _parsed(found, "bundle", CID.parse, where),
        _field(found, "yanked", bool, where),
    )


def _parsed(data: Any, key: str, parse: Callable[[str], T], where: str) -> T:
    text = _field(data, key, str, where)
    try:
        return parse(text)
    except DmgError as exc:
        raise MalformedResponseError(f"{where}: field {key!r}: {exc}") from exc


def _count(data: Any, key: str, where: str) -> int:
    value = _field(data, key, int, where)
    if value < 0:
        raise MalformedResponseError(f"{where}: field {key!r} must not be negative")
    return value


def _base64(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedResponseError(f"{where}: expected a base64 string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise MalformedResponseError(f"{where}: not standard base64: {exc}") from exc


def _hashes(value: Any, where: str) -> list[bytes]:
    if not isinstance(value, list) or len(value) > MAX_PROOF_HASHES:
        raise MalformedResponseError(f"{where}: expected a list of at most {MAX_PROOF_HASHES} base64 hashes")
    return [_base64(item, f"{where}[{index}]") for index, item in enumerate(value)]


def _proven_entry(row: Any, where: str) -> ProvenEntry:
    proof = row.get("inclusionProof") if isinstance(row, dict) else None
    return ProvenEntry(
        _count(row, "leafIndex", where),
        _base64(_field(row, "envelope", str, where), f"{where}.envelope"),
        None if proof is None else tuple(_hashes(proof, f"{where}.inclusionProof")),
    )


def _event(row: Any, where: str) -> RegistryEvent:
    position = _count(row, "position", where)
    return verified_event(position, _parsed(row, "cid", CID.parse, where), _base64(row.get("envelope"), where))


def _json(body: bytes, where: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedResponseError(f"{where}: the answer is not JSON: {exc}") from exc


def _error_from(status: int, reason: str, body: bytes) -> DmgError:
    """The typed error an error answer carries: REST ``{"error": {code, message}}`` or GraphQL ``{"errors": [...]}``."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        code, message = payload["error"].get("code"), payload["error"].get("message")
        if isinstance(code, str) and isinstance(message, str):
            return ERROR_CLASSES.get(code, DmgError)(message)
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list) and payload["errors"]:
        return _graphql_error(payload["errors"])
    if status >= 500:
        return RegistryUnavailableError(f"the registry failed: HTTP {status} {reason}")
    return MalformedResponseError(f"the registry answered HTTP {status} {reason} without an error description")


def _graphql_error(errors: list[Any]) -> DmgError:
    first = errors[0]
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, str):
        return MalformedResponseError("the registry reported a GraphQL error without a message")
    extensions = first.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return ERROR_CLASSES.get(code, DmgError)(message) if isinstance(code, str) else DmgError(message)


# --- the client ---------------------------------------------------------------------------------------------


class HttpClient:
    """Talks to the registry service at ``base_url``; verifies every answer before returning it."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        trust: TrustPolicy | None = None,
        check_log: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``trust`` judges the registry's transparency log (default: :meth:`TrustPolicy.default`); with
        ``check_log`` False, only the answers themselves are checked, not the log (``verify`` still checks it)."""
        if not base_url.startswith(("http://", "https://")):
            raise DmgError(f"{base_url!r} is not an http:// or https:// URL")
        if max_response_bytes < 1:
            raise DmgError("max_response_bytes must be positive")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.progress: TransferProgress | None = None
        self.check_log = check_log
        self.trust = trust or TrustPolicy.default()
        self.log = LogVerifier(self, self.base_url, self.trust)
        self._home_logs: dict[str, LogVerifier] = {}
        self._homes: dict[str, str | None] = {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"Accept-Encoding": "identity", "User-Agent": "dmg", **(headers or {})},
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    # --- transport --------------------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        limit: int,
        params: list[tuple[str, str | int | float | bool | None]] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        upload: bytes | None = None,
        report: bool = False,
    ) -> bytes:
        """Send one request and return the body of a successful answer, read up to ``limit`` bytes.

        With ``report``, progress is reported for the upload when there is one, else for the download.
        """
        progress = self.progress if report else None
        content = None
        if upload is not None:
            headers = {**(headers or {}), "Content-Length": str(len(upload))}
            content = self._chunks(upload, progress)
            progress = None
        request = self._http.build_request(
            method, path, params=params, headers=headers, json=json_body, content=content
        )
        try:
            response = await self._http.send(request, stream=True)
            try:
                if response.is_error:
                    body = await self._read(response, MAX_ERROR_BYTES, None, truncate=True)
                    raise _error_from(response.status_code, response.reason_phrase, body)
                return await self._read(response, limit, progress)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(
                f"{method} {self.base_url}{path} failed: {str(exc) or type(exc).__name__}"
            ) from exc

    @staticmethod
    async def _chunks(data: bytes, progress: TransferProgress | None) -> AsyncIterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(data), UPLOAD_CHUNK_SIZE):
            piece = bytes(view[start : start + UPLOAD_CHUNK_SIZE])
            yield piece
            if progress is not None:
                progress(start + len(piece), len(data))

    @staticmethod
    async def _read(
        response: httpx.Response, limit: int, progress: TransferProgress | None, *, truncate: bool = False
    ) -> bytes:
        """The body, refused (or for error bodies cut short) once it passes ``limit`` bytes."""
        declared = response.headers.get("Content-Length")
        total = int(declared) if declared is not None and declared.isdigit() else None
        if total is not None and total > limit and not truncate:
            raise TooLargeError(f"the registry's answer declares {total} bytes, over the {limit}-byte limit")
        pieces: list[bytes] = []
        received = 0
        async for piece in response.aiter_bytes():
            received += len(piece)
            if received > limit:
                if truncate:
                    pieces.append(piece[: len(piece) - (received - limit)])
                    break
                raise TooLargeError(f"the registry's answer passed the {limit}-byte limit; stopped reading")
            pieces.append(piece)
            if progress is not None:
                progress(received, total)
        return b"".join(pieces)

    async def _get_json(self, path: str) -> Any:
        return _json(await self._request("GET", path, limit=self._json_limit), path)

    async def _post_json(self, path: str, body: bytes, content_type: str, *, report: bool = False) -> Any:
        answer = await self._request(
            "POST",
            path,
            limit=self._json_limit,
            headers={"Content-Type": content_type, "Accept": "application/json"},
            upload=body,
            report=report,
        )
        return _json(answer, path)

    async def _graphql_data(self, query: str, variables: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
        """The ``data`` of a GraphQL answer, which must hold ``fields``; errors are raised as typed errors."""
        answer = await self._request(
            "POST",
            paths.GRAPHQL.url(),
            limit=self._json_limit,
            headers={"Accept": "application/json"},
            json_body={"query": query, "variables": variables},
        )
        payload = _json(answer, paths.GRAPHQL.template)
        if isinstance(payload, dict) and isinstance(payload.get("errors"), list) and payload["errors"]:
            raise _graphql_error(payload["errors"])
        data = _field(payload, "data", dict, paths.GRAPHQL.template)
        missing = next((field for field in fields if field not in data), None)
        if missing is not None:
            raise MalformedResponseError(f"/graphql: the answer lacks {missing!r}")
        return data

    async def _graphql(self, query: str, variables: dict[str, Any], field: str) -> Any:
        """The value of ``field`` in a GraphQL answer; errors in the answer are raised as typed errors."""
        return (await self._graphql_data(query, variables, [field]))[field]

    @property
    def _json_limit(self) -> int:
        return min(self.max_response_bytes, MAX_JSON_BYTES)

    # --- blocks and records -----------------------------------------------------------------------------------

    async def get_block(self, cid: CID) -> bytes:
        """The block ``cid`` names, checked against it."""
        data = await self._request(
            "GET",
            paths.BLOCK.url(cid=str(cid)),
            limit=min(self.max_response_bytes, MAX_BLOCK_SIZE),
            params=[("format", "raw")],
            headers={"Accept": media.RAW},
        )
        return verified_block(cid, data)

    async def record(self, cid: CID) -> tuple[Envelope, ModuleRecord]:
        return verified_record(cid, await self.get_block(cid))

    # --- logs and writes --------------------------------------------------------------------------------------

    async def log_head(self, log: str) -> LogHead:
        """The head of a namespace or DXN log, after checking the signed entry it points at."""
        name = str(DXN.parse(log).base) if "/" in log else log
        path = paths.HEAD.url(log=name)
        data = await self._get_json(path)
        seq = _field(data, "seq", int, path)
        time = _field(data, "time", int, path)
        if data.get("cid") is None:
            if seq != -1:
                raise MalformedResponseError(f"{path}: an empty log has seq -1, not {seq}")
            return LogHead()
        head = LogHead(_parsed(data, "cid", CID.parse, path), seq, time)
        assert head.cid is not None
        _, entry = verified_entry(head.cid, await self.get_block(head.cid))
        check_log_head(name, head, entry)
        return head

    async def submit_entry(self, envelope: Envelope) -> CID:
        cid, data = envelope.block()
        answer = await self._post_json(paths.ENTRIES.url(), data, media.DAG_CBOR)
        accepted = _parsed(answer, "cid", CID.parse, paths.ENTRIES.template)
        if accepted != cid:
            raise RecordMismatchError(f"submitted entry {cid}, the registry says it accepted {accepted}")
        return cid

    async def publish(self, root: CID, blocks: Mapping[CID, bytes]) -> PublishResult:
        """Upload the release entry ``root`` with its record and bundle blocks as one CAR."""
        data = blocks.get(root)
        if data is None:
            raise NotFoundError(f"the root block {root} is missing from the submission")
        entry = parse_entry(Envelope.decode(data).payload)
        if not isinstance(entry, Release):
            raise RecordMismatchError("publish needs a release entry as its root")
        car = write_car([root], [(root, data), *((cid, block) for cid, block in blocks.items() if cid != root)])
        answer = await self._post_json(paths.PUBLISH.url(), car, media.CAR, report=True)
        where = paths.PUBLISH.template
        result = PublishResult(
            _parsed(answer, "dxn", DXN.parse, where),
            _parsed(answer, "version", Version.parse, where),
            _parsed(answer, "cid", CID.parse, where),
            _parsed(answer, "entry", CID.parse, where),
        )
        if (result.dxn, result.version, result.record, result.entry) != (entry.dxn, entry.version, entry.record, root):
            raise RecordMismatchError(
                f"published {entry.dxn}@{entry.version} (entry {root}), the registry reports "
                f"{result.dxn}@{result.version} (entry {result.entry})"
            )
        return result

    async def import_car(self, data: bytes) -> ImportResult:
        answer = await self._post_json(paths.IMPORT.url(), data, media.CAR, report=True)
        where = paths.IMPORT.template
        return ImportResult(
            _count(answer, "entriesAdded", where),
            _count(answer, "entriesKnown", where),
            _count(answer, "blocksAdded", where),
        )

    async def export(self, dxns: Iterable[DXN]) -> bytes:
        """A CAR of the selected versions that imports into an empty registry (:func:`verified_export`: every block,
        entry, record and bundle in it verified, its logs replayed from empty); and, checked against the registry's
        transparency log, every entry in it is in the log, every release is the log's, and every version it carries
        has the yank status the log gives it (so a mirror does not resolve a version yanked here)."""
        wanted = list(dxns)
        data = await self._request(
            "GET",
            paths.EXPORT.url(),
            limit=self.max_response_bytes,
            params=[("dxn", str(dxn)) for dxn in wanted],
            headers={"Accept": media.CAR},
            report=True,
        )
        car = read_car(data)
        releases = verified_export(car, wanted)
        if self.check_log:
            logged: set[CID] = set()
            for dxn in dict.fromkeys(dxn.base for dxn in wanted):
                logs = await (await self._log_for(dxn)).logs(dxn)
                for release in releases:
                    if release.entry.dxn == dxn:
                        version = release.entry.version
                        logs.check_release(version, release.entry.record, release.record)
                        if release.yanked != (version in logs.dxn_log.yanked):
                            raise RecordMismatchError(
                                f"the export leaves {dxn}@{version} {'yanked' if release.yanked else 'not yanked'}; "
                                f"the registry's signed log of {logs.checkpoint.size} entries says otherwise"
                            )
                logged |= logs.entries
            stray = next((root for root in car.roots if root not in logged), None)
            if stray is not None:
                raise InclusionError(f"the exported entry {stray} is not in the registry's signed log")
        return data

    async def fsck(self) -> FsckReport:
        raise DmgError(f"fsck runs on a local data directory, not on a registry service ({self.base_url})")

    # --- federation: what a peer reads ------------------------------------------------------------------------

    async def discovery(self) -> Discovery:
        """The registry's discovery document (origin, log key, homes, mirrors), read strictly."""
        try:
            return Discovery.from_json(await self._get_json(paths.WELL_KNOWN.url()))
        except DiscoveryError as exc:
            raise MalformedResponseError(f"{paths.WELL_KNOWN.template}: {exc}") from exc

    async def tile(self, tile: Tile) -> bytes:
        """A tlog-tiles resource of the registry's log, at most its largest possible size; the caller checks it
        against a checkpoint (a tile proves nothing by itself)."""
        limit = TILE_WIDTH * (MAX_ENTRY_SIZE + 2) if tile.entries else TILE_WIDTH * HASH_SIZE
        return await self._request("GET", paths.TILE.url(path=tile.path.removeprefix("tile/")), limit=limit)

    async def blocks(self, cids: Sequence[CID], *, scope: str = "block") -> dict[CID, bytes]:
        """The blocks ``cids`` name (``scope="all"``: with the DAGs under them) in one request, every block checked
        against its CID; each block asked for must be in the answer."""
        body = json.dumps({"cids": [str(cid) for cid in cids], "scope": scope}).encode()
        answer = await self._request(
            "POST",
            paths.BLOCKS.url(),
            limit=self.max_response_bytes,
            headers={"Content-Type": media.JSON, "Accept": media.CAR},
            upload=body,
        )
        car = read_car(answer)
        missing = next((cid for cid in cids if cid not in car.blocks), None)
        if missing is not None:
            raise MalformedResponseError(f"{paths.BLOCKS.template}: the answer lacks the block {missing} asked for")
        return car.blocks

    # --- the transparency log (a LogSource for dmg.client.transparency) ---------------------------------------

    async def _log_for(self, dxn: DXN) -> LogVerifier:
        """The log that vouches for ``dxn``: the registry's own, or the home log of a namespace it mirrors (then
        checked against the home's key, pinned by its origin, never against the mirror's)."""
        if dxn.authority not in self._homes:
            home = await self._graphql(_HOME, {"name": dxn.authority}, "namespace")
            origin = home.get("home") if isinstance(home, dict) else None
            if origin is not None and (not isinstance(origin, str) or not origin or len(origin) > 1024):
                raise MalformedResponseError("namespace: field 'home' must be a log origin or null")
            self._homes[dxn.authority] = origin
        origin = self._homes[dxn.authority]
        if origin is None:
            return self.log
        verifier = self._home_logs.get(origin)
        if verifier is None:
            policy = replace(self.trust, registry_key=None)
            verifier = LogVerifier(HomeLogSource(self, origin), f"log {origin}", policy)
            self._home_logs[origin] = verifier
        return verifier

    async def checkpoint_note(self) -> str:
        data = await self._request(
            "GET", paths.CHECKPOINT.url(), limit=MAX_CHECKPOINT_BYTES, headers={"Accept": "text/plain"}
        )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedResponseError(f"{paths.CHECKPOINT.template}: the note is not UTF-8 text: {exc}") from exc

    async def log_verifier_key(self) -> str:
        return await self._verifier_key(None)

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return await self._consistency(old_size, new_size, None)

    async def proven_history(self, logs: Sequence[str], size: int) -> dict[str, list[ProvenEntry]]:
        return await self._history(logs, size, None)

    async def _verifier_key(self, log: str | None) -> str:
        checkpoint = await self._graphql(_CHECKPOINT_KEY, {"log": log}, "checkpoint")
        return _field(checkpoint, "verifierKey", str, "checkpoint")

    async def _consistency(self, old_size: int, new_size: int, log: str | None) -> list[bytes]:
        variables = {"from": old_size, "to": new_size, "log": log}
        return _hashes(await self._graphql(_CONSISTENCY, variables, "consistencyProof"), "consistencyProof")

    async def _history(self, logs: Sequence[str], size: int, log: str | None) -> dict[str, list[ProvenEntry]]:
        aliases = [f"log{index}" for index in range(len(logs))]
        variables: dict[str, Any] = {"size": size, "in": log, **dict(zip(aliases, logs, strict=True))}
        data = await self._graphql_data(_history_query(len(logs)), variables, aliases)
        history: dict[str, list[ProvenEntry]] = {}
        for alias, log in zip(aliases, logs, strict=True):
            rows = data[alias]
            if not isinstance(rows, list):
                raise MalformedResponseError(f"history of {log}: expected a list, got {type(rows).__name__}")
            history[log] = [_proven_entry(row, f"history of {log}[{index}]") for index, row in enumerate(rows)]
        return history

    # --- events -----------------------------------------------------------------------------------------------

    async def log_size(self) -> int:
        """The size of the registry's newest checkpoint (its signature is not checked here: a size is a position to
        read events from, and every event read is verified)."""
        checkpoint = await self._graphql(_CHECKPOINT_SIZE, {}, "checkpoint")
        return _count(checkpoint, "size", "checkpoint")

    async def events_since(self, after: int, limit: int = 100) -> list[RegistryEvent]:
        """Up to ``limit`` events after ``after``, each entry verified, in order."""
        rows = await self._graphql(_EVENTS, {"after": after, "first": limit}, "events")
        if not isinstance(rows, list) or len(rows) > limit:
            raise MalformedResponseError(f"events: expected a list of at most {limit} events")
        events = [_event(row, f"events[{index}]") for index, row in enumerate(rows)]
        check_positions(after, events)
        return events

    async def subscribe(self, after: int | None = None) -> AsyncIterator[RegistryEvent]:
        """Events after ``after`` (None: from now on) over the graphql-transport-ws subscription, each verified;
        :class:`RegistryUnavailableError` when the connection breaks or the registry ends the subscription."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException
        from websockets.typing import Subprotocol

        url = "ws" + self.base_url[len("http") :] + paths.GRAPHQL_WS.url()
        payload = {"query": _SUBSCRIBE_EVENTS, "variables": {"after": after}}
        last = after
        try:
            async with connect(
                url,
                subprotocols=[Subprotocol(WS_PROTOCOL)],
                max_size=MAX_EVENT_MESSAGE_BYTES,
                open_timeout=self.timeout,
            ) as socket:
                await socket.send(json.dumps({"type": "connection_init"}))
                while True:
                    message = _json(await socket.recv(decode=False), url)
                    kind = message.get("type") if isinstance(message, dict) else None
                    if kind == "connection_ack":
                        await socket.send(json.dumps({"id": "events", "type": "subscribe", "payload": payload}))
                    elif kind == "ping":
                        await socket.send(json.dumps({"type": "pong"}))
                    elif kind == "next":
                        data = _field(_field(message, "payload", dict, url), "data", dict, url)
                        event = _event(data.get("events"), "events")
                        if last is not None:
                            check_positions(last, [event])
                        last = event.position
                        yield event
                    elif kind == "error":
                        errors = message.get("payload")
                        raise _graphql_error(errors if isinstance(errors, list) and errors else [{}])
                    elif kind == "complete":
                        raise RegistryUnavailableError(f"{url}: the registry ended the subscription")
                    elif kind != "pong":
                        raise MalformedResponseError(f"{url}: unexpected message type {kind!r}")
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise RegistryUnavailableError(f"subscription to {url} failed: {str(exc) or type(exc).__name__}") from exc

    # --- questions --------------------------------------------------------------------------------------------

    async def resolve(self, dxn: DXN, selector: Version | Range | str | None = None) -> Resolution:
        """Which version ``selector`` (or the DXN's own ``@selector``; latest by default) picks, with its record
        fetched and checked to be that version's, and (by default) checked against the transparency log."""
        if selector is None:
            selector = dxn.version_selector()
        resolution, envelope = await self._resolution(dxn, selector)
        if self.check_log:
            log = await self._log_for(dxn)
            await log.verify(dxn, selector, resolution.version, resolution.record, envelope, resolution.yanked)
        return resolution

    async def verify(self, dxn: DXN, selector: Version | Range | str | None = None) -> Verification:
        """Resolve ``dxn`` and check the answer against the registry's transparency log, whatever ``check_log``."""
        if selector is None:
            selector = dxn.version_selector()
        resolution, envelope = await self._resolution(dxn, selector)
        log = await self._log_for(dxn)
        return await log.verify(dxn, selector, resolution.version, resolution.record, envelope, resolution.yanked)

    async def _resolution(self, dxn: DXN, selector: Version | Range | str | None) -> tuple[Resolution, Envelope]:
        variables = {"dxn": str(dxn.base), "range": None if selector is None else str(selector)}
        found = await self._graphql(_RESOLVE, variables, "resolve")
        if found is None:
            raise NotFoundError(f"no version of {dxn.base} matches {selector or 'latest'!s}")
        resolution = _claimed(found, "resolve")
        envelope, record = await self.record(resolution.record)
        check_resolution(dxn, selector, resolution, record)
        return resolution, envelope

    async def module(self, dxn: DXN, version: Version) -> ModuleInfo:
        """One version's signed record (verified) with the registry's yank status and publication facts; the
        record and the yank status are (by default) checked against the transparency log."""
        found = await self._graphql(_MODULE, {"dxn": str(dxn.base), "version": str(version)}, "module")
        if found is None:
            raise NotFoundError(f"{dxn.base}@{version} was never released")
        where = "module"
        claimed = _claimed(found, where)
        envelope, record = await self.record(claimed.record)
        check_resolution(dxn, version, claimed, record)
        if self.check_log:
            log = await self._log_for(dxn)
            await log.verify(dxn, version, version, claimed.record, envelope, claimed.yanked)
        return ModuleInfo(
            claimed.record,
            record,
            claimed.yanked,
            _field(found, "yankReason", str, where),
            _count(found, "publishedAt", where),
            _field(found, "publisher", str, where),
        )

    async def versions(self, dxn: DXN) -> list[VersionInfo]:
        """Every released version of ``dxn``, oldest first, as the registry's index lists them."""
        rows = await self._graphql(_VERSIONS, {"dxn": str(dxn.base)}, "versions")
        if not isinstance(rows, list):
            raise MalformedResponseError(f"versions: expected a list, got {type(rows).__name__}")
        infos: list[VersionInfo] = []
        for index, row in enumerate(rows):
            where = f"versions[{index}]"
            infos.append(
                VersionInfo(
                    dxn.base,
                    str(_parsed(row, "version", Version.parse, where)),
                    _parsed(row, "cid", CID.parse, where),
                    _parsed(row, "entry", CID.parse, where),
                    _field(row, "yanked", bool, where),
                    _field(row, "yankReason", str, where),
                    _count(row, "publishedAt", where),
                    _field(row, "publisher", str, where),
                )
            )
        if len({info.version for info in infos}) != len(infos):
            raise MalformedResponseError(f"versions: the registry listed a version of {dxn.base} twice")
        return sorted(infos, key=lambda info: Version.parse(info.version))

    async def search(
        self,
        text: str | None = None,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> SearchPage:
        """Full-text search over names, descriptions and function names, best match first."""
        if type(first) is not int or first < 1:
            raise DmgError(f"first must be a positive integer, not {first!r}")
        variables = {"query": text, "namespace": namespace, "kind": kind, "after": after}
        connection = await self._graphql(_SEARCH % first, variables, "modules")
        edges = _field(connection, "edges", list, "modules")
        page_info = _field(connection, "pageInfo", dict, "modules")
        hits = []
        for index, edge in enumerate(edges):
            where = f"modules.edges[{index}].node"
            node = _field(edge, "node", dict, f"modules.edges[{index}]")
            hits.append(
                SearchHit(
                    _parsed(node, "dxn", DXN.parse, where),
                    _parsed(node, "version", Version.parse, where),
                    _parsed(node, "cid", CID.parse, where),
                    _field(node, "description", str, where),
                    _field(node, "yanked", bool, where),
                )
            )
        end_cursor = page_info.get("endCursor")
        if end_cursor is not None and not isinstance(end_cursor, str):
            raise MalformedResponseError("modules.pageInfo: field 'endCursor' must be a string or null")
        return SearchPage(
            tuple(hits),
            _count(connection, "totalCount", "modules"),
            _field(page_info, "hasNextPage", bool, "modules.pageInfo"),
            end_cursor,
        )


class HomeLogSource:
    """The home log ``origin`` as a mirror serves it (a :class:`~dmg.client.transparency.LogSource`): the home's
    signed checkpoint and proofs in the home's tree, which the mirror cannot forge."""

    def __init__(self, client: HttpClient, origin: str) -> None:
        self.client = client
        self.origin = origin

    async def checkpoint_note(self) -> str:
        checkpoint = await self.client._graphql(_CHECKPOINT_NOTE, {"log": self.origin}, "checkpoint")
        return _field(checkpoint, "note", str, "checkpoint")

    async def log_verifier_key(self) -> str:
        return await self.client._verifier_key(self.origin)

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return await self.client._consistency(old_size, new_size, self.origin)

    async def proven_history(self, logs: Sequence[str], size: int) -> dict[str, list[ProvenEntry]]:
        return await self.client._history(logs, size, self.origin)
