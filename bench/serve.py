"""GraphQL ``resolve`` queries per second, and p50/p99 latency, at 1 and 16 concurrent clients.

Starts ``dmg serve`` (seeded with the sample modules, on a temporary data directory) in a subprocess on
127.0.0.1, and beside it the baseline: a bare Starlette endpoint, also under uvicorn in a subprocess, that answers
every POST with the same JSON bytes the registry gave, from memory. The same load generator (a minimal
HTTP/1.1 client, one keep-alive connection per client) drives both, in alternating rounds, so the ratio shows
what GraphQL parsing, validation, resolution and the SQLite reads cost over the HTTP stack alone. Figures are
medians over the rounds. The machine's cores are shared by both servers and the load generator.

    python bench/serve.py [--seconds S] [--rounds R] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

QUERY = {
    "query": "query ($dxn: String!) { resolve(dxn: $dxn) { dxn version cid bundle yanked } }",
    "variables": {"dxn": "org.example/function/echo@^1"},
}
CONCURRENCY = (1, 16)


def start_registry(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "dmg", "serve", "--data", str(data_dir), "--port", "0", "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()
    url = process.stdout.readline().split("GraphQL: ", 1)[1].strip()
    return process, url


def start_baseline(body: bytes, body_file: Path) -> tuple[subprocess.Popen[str], str]:
    body_file.write_bytes(body)
    command = [sys.executable, __file__, "--baseline-server", str(body_file)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def serve_baseline(body_file: Path) -> None:
    """The baseline server: one Starlette route answering every POST with fixed JSON bytes; prints its URL."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = body_file.read_bytes()

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/graphql", answer, methods=["POST"])])

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            port = self.servers[0].sockets[0].getsockname()[1]
            print(f"http://127.0.0.1:{port}/graphql", flush=True)

    Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")).run()


class Connection:
    """One keep-alive HTTP/1.1 connection sending the same POST again and again.

    A few lines over asyncio streams rather than an HTTP client library, so that the load generator costs far
    less than the servers it measures (they share the machine's cores).
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        body = json.dumps(QUERY).encode()
        self.request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def post(self) -> bytes:
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise RuntimeError(f"server answered {status.decode()}")
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        return await self.reader.readexactly(length)


async def load(url: str, clients: int, seconds: float) -> dict[str, float]:
    """Each client sends queries back to back for ``seconds``; returns queries/s and latency percentiles in ms."""
    latencies: list[float] = []

    async def client(deadline: float) -> None:
        async with Connection(url) as connection:
            while (start := time.perf_counter()) < deadline:
                await connection.post()
                latencies.append(time.perf_counter() - start)

    await client(time.perf_counter() + 0.2)
    latencies.clear()
    begin = time.perf_counter()
    await asyncio.gather(*(client(begin + seconds) for _ in range(clients)))
    elapsed = time.perf_counter() - begin
    ordered = sorted(latencies)
    return {
        "qps": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(statistics.median(item[name] for item in rounds), 3) for name in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one measurement round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke test)")
    parser.add_argument("--baseline-server", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        serve_baseline(args.baseline_server)
        return
    seconds, rounds = (0.5, 1) if args.quick else (args.seconds, args.rounds)

    with tempfile.TemporaryDirectory() as scratch:
        registry, registry_url = start_registry(Path(scratch) / "data")
        try:
            expected = httpx.post(registry_url, json=QUERY)
            assert "errors" not in expected.json(), expected.text
            baseline, baseline_url = start_baseline(expected.content, Path(scratch) / "body.json")
            try:
                results: dict[str, dict[int, list[dict[str, float]]]] = {
                    "registry": {clients: [] for clients in CONCURRENCY},
                    "baseline": {clients: [] for clients in CONCURRENCY},
                }
                for _ in range(rounds):
                    for clients in CONCURRENCY:
                        for name, url in (("registry", registry_url), ("baseline", baseline_url)):
                            results[name][clients].append(asyncio.run(load(url, clients, seconds)))
            finally:
                baseline.terminate()
                baseline.wait()
        finally:
            registry.terminate()
            registry.wait()

    summary: dict[str, Any] = {"bench": "serve", "query": "resolve", "seconds": seconds, "rounds": rounds}
    for clients in CONCURRENCY:
        registry_figures = median_of(results["registry"][clients])
        baseline_figures = median_of(results["baseline"][clients])
        ratio = round(registry_figures["qps"] / baseline_figures["qps"], 3)
        summary[f"c{clients}"] = {"registry": registry_figures, "baseline": baseline_figures, "qps_ratio": ratio}
        for name, figures in (("registry", registry_figures), ("baseline", baseline_figures)):
            print(
                f"{clients:>2} client(s) {name:<8}: {figures['qps']:8.0f} q/s   p50 {figures['p50_ms']:6.2f} ms"
                f"   p99 {figures['p99_ms']:6.2f} ms"
            )
        print(f"{clients:>2} client(s) registry/baseline throughput: {ratio:.3f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
