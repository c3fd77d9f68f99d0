"""Installed-package metadata written by hand, for ``importlib.metadata`` to find entry points in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_distribution(site: Path, name: str, entry_points: Mapping[str, Mapping[str, str]]) -> Path:
    """Write the metadata of a distribution ``name`` that declares ``entry_points`` (group → name → target) into
    the directory ``site``, for ``importlib.metadata`` to find once ``site`` is on ``sys.path``; returns ``site``."""
    info = site / f"{name}-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{entry} = {target}\n" for entry, target in entries.items())
            for group, entries in entry_points.items()
        )
    )
    return site
