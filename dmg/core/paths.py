"""Where DMG keeps its files by default (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """``$XDG_DATA_HOME/dmg`` (``~/.local/share/dmg`` when XDG_DATA_HOME is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "dmg"


def default_data_dir() -> Path:
    """Where the embedded registry lives by default: ``$XDG_DATA_HOME/dmg/registry``."""
    return data_home() / "registry"


def default_orchestrator_dir() -> Path:
    """Where the orchestrator keeps its state by default: ``$XDG_DATA_HOME/dmg/orchestrator``."""
    return data_home() / "orchestrator"
