"""Where DMG keeps its files by default (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/dmg/registry`` (``~/.local/share/dmg/registry`` when XDG_DATA_HOME is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "dmg" / "registry"
