"""The media types of the registry's HTTP contract.

Blocks and CARs follow the IPFS trustless gateway's types; the transparency log follows C2SP tlog-tiles (a signed
note as UTF-8 text, tiles as octets).
"""

from __future__ import annotations

from typing import Final

RAW: Final = "application/vnd.ipld.raw"
"""One block's bytes, exactly as its CID names them."""
CAR: Final = "application/vnd.ipld.car"
"""A CARv1 of blocks: a publish, an import, an export, or the DAG under a CID."""
DAG_CBOR: Final = "application/vnd.ipld.dag-cbor"
"""One DAG-CBOR block: a signed log entry submitted on its own."""
JSON: Final = "application/json"
NOTE: Final = "text/plain; charset=utf-8"
"""A C2SP signed note: the transparency log's checkpoint."""
TILE: Final = "application/octet-stream"
"""A tlog-tiles hash tile or entry bundle."""
