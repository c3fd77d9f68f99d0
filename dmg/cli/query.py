"""``dmg search`` and ``dmg show``: find modules, and print everything one version declares.

Both work on a local data directory and on a registry service alike. ``show`` prints the signed record, which an
HTTP client has verified (signatures, and that it is the version the registry said); yank status and publication
facts come from the registry's index. Search results are the registry's index as it answers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from dmg.api.results import ModuleInfo, SearchPage
from dmg.cli.common import emit, json_option, registry_option, run_with_client
from dmg.client.base import RegistryClient
from dmg.core.dxn import DXN
from dmg.core.records import ModuleRecord, Resources
from dmg.core.semver import Version
from dmg.core.units import format_size


@click.command()
@click.argument("words", nargs=-1, metavar="[TEXT]...")
@click.option("--namespace", default=None, metavar="AUTHORITY", help="Only modules in this namespace.")
@click.option("--kind", default=None, help="Only modules of this kind (function, type, app, service, api, ...).")
@click.option("--first", default=20, show_default=True, type=click.IntRange(1), help="How many modules to list.")
@click.option("--after", default=None, metavar="CURSOR", help="Continue after this cursor (from a previous page).")
@registry_option
@json_option
def search(
    words: tuple[str, ...],
    namespace: str | None,
    kind: str | None,
    first: int,
    after: str | None,
    registry: str | None,
    as_json: bool,
) -> None:
    """Find modules whose names, descriptions or function names contain every word of TEXT (all modules when
    TEXT is empty), best match first."""
    text = " ".join(words) or None

    async def work(client: RegistryClient) -> SearchPage:
        return await client.search(text, namespace=namespace, kind=kind, first=first, after=after)

    page = run_with_client(registry, work)
    data = {
        "total": page.total,
        "hasNextPage": page.has_next,
        "endCursor": page.end_cursor,
        "hits": [
            {
                "dxn": str(hit.dxn),
                "version": str(hit.version),
                "cid": str(hit.cid),
                "description": hit.description,
                "yanked": hit.yanked,
            }
            for hit in page.hits
        ],
    }

    def human() -> str:
        if not page.hits:
            return "no modules found"
        width = max(len(f"{hit.dxn}@{hit.version}") for hit in page.hits)
        lines = [
            f"{f'{hit.dxn}@{hit.version}':<{width}}  {hit.description}" + ("  (yanked)" if hit.yanked else "")
            for hit in page.hits
        ]
        lines.append(f"{len(page.hits)} of {page.total} modules")
        if page.has_next and page.end_cursor is not None:
            lines[-1] += f"; next page: --after {page.end_cursor}"
        return "\n".join(lines)

    emit(as_json, data, human)


@click.command()
@click.argument("target", metavar="DXN[@RANGE]")
@registry_option
@json_option
def show(target: str, registry: str | None, as_json: bool) -> None:
    """Print the version of DXN a version, range or tag selects (default: latest): its functions, resources,
    APIs, dependencies, triggers, publisher and yank status."""
    dxn = DXN.parse(target)

    async def work(client: RegistryClient) -> ModuleInfo:
        selector = dxn.version_selector()
        version = selector if isinstance(selector, Version) else (await client.resolve(dxn)).version
        return await client.module(dxn.base, version)

    info = run_with_client(registry, work)
    data = {key: value for key, value in info.record.to_dict().items() if key != "type"}
    data.update(cid=info.cid, yanked=info.yanked, publishedAt=info.published_at, publisher=info.publisher)
    emit(as_json, data, lambda: describe(info))


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def _resources(resources: Resources) -> list[str]:
    lines = []
    if resources.memory is not None:
        lines.append(f"memory   {format_size(resources.memory)}")
    if resources.cpu_timeout_ms is not None:
        lines.append(f"cpu      {resources.cpu_timeout_ms} ms per invocation")
    if resources.cpu_fuel is not None:
        lines.append(f"fuel     {resources.cpu_fuel}")
    if resources.storage is not None:
        lines.append(f"storage  {format_size(resources.storage)}")
    if resources.network:
        lines.append(f"network  {', '.join(resources.network)}")
    lines.append(f"spaces   {resources.spaces}")
    return lines


def _section(title: str, lines: list[str]) -> list[str]:
    return [title, *(f"  {line}" for line in lines or ["none"])]


def describe(info: ModuleInfo) -> str:
    """The human-readable page ``dmg show`` prints for one module version."""
    record: ModuleRecord = info.record
    published = datetime.fromtimestamp(info.published_at / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"{record.dxn}@{record.version}" + ("  (yanked)" if info.yanked else ""),
        *([f"  {record.description}"] if record.description else []),
        f"  record     {info.cid}",
        f"  bundle     {record.bundle} ({record.runtime})",
        f"  publisher  {info.publisher}",
        f"  published  {published}",
    ]
    functions = []
    for function in record.functions:
        functions.append(function.name + (f": {function.description}" if function.description else ""))
        functions.append(f"  input   {_compact(function.input_schema)}")
        functions.append(f"  output  {_compact(function.output_schema)}")
    lines += _section("functions", functions)
    lines += _section("resources", _resources(record.resources))
    apis = [f"provides {api}@{version}" for api, version in record.provides]
    apis += [f"requires {requirement}" for requirement in record.requires]
    lines += _section("apis", apis)
    lines += _section("dependencies", [f"{requirement.dxn} {requirement.spec}" for requirement in record.dependencies])
    triggers = [
        f"{trigger.function} on {_compact(trigger.spec.to_dict())}"
        + (f" with input {_compact(trigger.input)}" if trigger.input else "")
        for trigger in record.triggers
    ]
    lines += _section("triggers", triggers)
    return "\n".join(lines)
