"""The wire contract: the service mounts exactly the endpoints the clients know, and a client stands alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.routing import Route, WebSocketRoute

from dmg.api import paths
from dmg.api.paths import Endpoint
from dmg.service.app import create_app
from dmg.service.settings import Settings

Routes = set[tuple[str, tuple[str, ...]]]


def without_head(path: str, methods: set[str]) -> tuple[str, tuple[str, ...]]:
    """Starlette answers HEAD wherever GET is served, so HEAD is compared on its own (below)."""
    return path, tuple(sorted(methods - {"HEAD"}))


def mounted(tmp_path: Path) -> Routes:
    routes: Routes = set()
    for route in create_app(Settings(data_dir=tmp_path, port=0, seed_samples=False)).routes:
        if isinstance(route, WebSocketRoute):
            routes.add((route.path, ("WEBSOCKET",)))
        else:
            assert isinstance(route, Route)
            routes.add(without_head(route.path, set(route.methods or ())))
    return routes


def test_every_mounted_route_is_in_the_contract_and_the_reverse(tmp_path: Path) -> None:
    contract = {without_head(endpoint.template, set(endpoint.methods)) for endpoint in paths.ENDPOINTS}
    assert mounted(tmp_path) == contract


def test_the_block_route_answers_head(tmp_path: Path) -> None:
    routes = create_app(Settings(data_dir=tmp_path, port=0, seed_samples=False)).routes
    block = next(route for route in routes if isinstance(route, Route) and route.path == paths.BLOCK.template)
    assert {"GET", "HEAD"} <= set(block.methods or ())


@pytest.mark.parametrize(
    ("endpoint", "values", "url"),
    [
        (paths.HEAD, {"log": "com.example/function/x"}, "/api/v1/head/com.example/function/x"),
        (paths.BLOCK, {"cid": "bafy x"}, "/ipfs/bafy%20x"),
        (paths.PUBLISH, {}, "/api/v1/publish"),
        (Endpoint("/a/{name}", ("GET",), ""), {"name": "b/c"}, "/a/b%2Fc"),
    ],
)
def test_urls_fill_and_quote_parameters(endpoint: Endpoint, values: dict[str, str], url: str) -> None:
    assert endpoint.url(**values) == url


def test_a_url_needs_exactly_its_parameters() -> None:
    with pytest.raises(ValueError, match="takes log"):
        paths.HEAD.url()
    with pytest.raises(ValueError, match="no parameters"):
        paths.PUBLISH.url(extra="x")


def test_the_http_client_loads_no_store_registry_or_sqlite() -> None:
    script = (
        "import sys, dmg.client.http\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'sqlite3', '_sqlite3', 'aiosqlite'}"
        " or m.startswith(('dmg.store', 'dmg.registry', 'dmg.service', 'dmg.http')))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == ""
