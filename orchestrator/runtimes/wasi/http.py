"""HTTP requests made on behalf of a function through the ``dmg.http_fetch`` host import.

A request is the JSON object ``{"method", "url", "headers", "body"}`` (only ``url`` required; ``method`` defaults to
``GET``); the response is ``{"status", "headers", "body"}`` with header names lower-cased, repeated headers joined
with ``", "`` and the body decoded as UTF-8 (invalid bytes replaced). A request is refused (``ERR_DENIED``) unless its
``scheme://host:port`` is on the function's allow-list, and rejected (``ERR_INVALID``) when malformed. Redirects are
returned, not followed (the next hop would need its own check); proxies from the environment are ignored; the
``Host`` header comes from the URL. Each request is bounded by the fetcher's timeout and by what is left of the
invocation's deadline, and its body by ``max_response`` bytes.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from orchestrator.runtimes.network import DEFAULT_PORTS, AllowList
from orchestrator.runtimes.wasi.abi import ERR_DENIED, ERR_FAILED, ERR_INVALID, HostCallError

METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REQUEST_KEYS: Final = frozenset({"method", "url", "headers", "body"})


def _request_fields(request: Any) -> tuple[str, httpx.URL, dict[str, str], bytes]:
    if not isinstance(request, dict):
        raise HostCallError(ERR_INVALID, "the request must be a JSON object with at least 'url'")
    unknown = sorted(set(request) - REQUEST_KEYS)
    if unknown:
        known = ", ".join(sorted(REQUEST_KEYS))
        raise HostCallError(ERR_INVALID, f"unknown request field {unknown[0]!r} (known: {known})")
    method = request.get("method", "GET")
    if method not in METHODS:
        raise HostCallError(ERR_INVALID, f"method must be one of {', '.join(METHODS)}, not {method!r}")
    url_text = request.get("url")
    if not isinstance(url_text, str):
        raise HostCallError(ERR_INVALID, "url must be a string such as 'https://api.example.com/v1/items'")
    try:
        url = httpx.URL(url_text)
    except httpx.InvalidURL as exc:
        raise HostCallError(ERR_INVALID, f"url {url_text!r} is not a valid URL: {exc}") from exc
    if url.scheme not in DEFAULT_PORTS or not url.host:
        raise HostCallError(ERR_INVALID, f"url {url_text!r} must be an absolute http:// or https:// URL")
    headers = request.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise HostCallError(ERR_INVALID, "headers must be an object of strings")
    if any(name.lower() == "host" for name in headers):
        raise HostCallError(ERR_INVALID, "the Host header is taken from the url and cannot be set")
    body = request.get("body", "")
    if not isinstance(body, str):
        raise HostCallError(ERR_INVALID, "body must be a string")
    return method, url, headers, body.encode()


class HttpFetcher:
    """Performs allowed requests with one shared connection pool; safe to use from many threads."""

    def __init__(self, *, timeout: float = 10.0, max_response: int = 1024 * 1024) -> None:
        self.timeout = timeout
        self.max_response = max_response
        self._client = httpx.Client(trust_env=False, follow_redirects=False)

    def fetch(self, request: Any, allow: AllowList, time_left: float) -> dict[str, Any]:
        """Perform ``request`` if ``allow`` permits it, within ``time_left`` seconds; the response as JSON."""
        method, url, headers, body = _request_fields(request)
        port = url.port or DEFAULT_PORTS[url.scheme]
        if not allow.permits(url.scheme, url.host, port):
            raise HostCallError(ERR_DENIED, f"{url.host}:{port} is not on this function's allow-list ({allow})")
        timeout = min(self.timeout, time_left)
        if timeout <= 0:
            raise HostCallError(ERR_FAILED, "the invocation's deadline has passed")
        try:
            with self._client.stream(method, url, headers=headers, content=body, timeout=timeout) as response:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > self.max_response:
                        raise HostCallError(ERR_FAILED, f"the response body is larger than {self.max_response} bytes")
                return {
                    "status": response.status_code,
                    "headers": dict(response.headers.items()),
                    "body": received.decode("utf-8", errors="replace"),
                }
        except httpx.HTTPError as exc:
            raise HostCallError(ERR_FAILED, f"{method} {url} failed: {exc or type(exc).__name__}") from exc

    def close(self) -> None:
        self._client.close()
