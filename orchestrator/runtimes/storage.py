"""A function's storage grant: one host directory, preopened in the guest at ``/data``, and its quota.

Stock WASI gives the host no hook on each write, so the quota is enforced at invocation boundaries, which is sound
for what it promises: the directory is measured after every invocation; an invocation that leaves it above the quota
fails with ``QUOTA_EXCEEDED`` (its result is discarded); and while it is above the quota it is preopened read-only,
so it cannot grow further. One invocation can overshoot by what it writes before it ends (bounded by its CPU and
wall-clock limits); the operator frees space or raises the quota. Usage counts every file's size plus
:data:`ENTRY_COST` bytes per directory entry, so a flood of empty files is charged too. Symbolic links are counted,
never followed (WASI itself refuses links that leave the directory).

What this module does not do: choose the directory (the installer does) or preopen it (the runtime does).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Final

from orchestrator.errors import GrantError

GUEST_PATH: Final = "/data"
ENTRY_COST: Final = 512


def directory_usage(root: Path) -> int:
    """Bytes charged to the tree under ``root``: file sizes plus :data:`ENTRY_COST` per entry."""
    total = 0
    pending = [root]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                total += ENTRY_COST
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_size
    return total


class DataDirectory:
    """The storage granted to one installed function: ``path`` on the host, at most ``quota`` bytes."""

    def __init__(self, path: str | os.PathLike[str], quota: int) -> None:
        if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0:
            raise GrantError(f"storage quota: must be a non-negative integer of bytes, not {quota!r}")
        self.path = Path(path)
        self.quota = quota
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise GrantError(f"storage directory {str(self.path)!r} cannot be created: {exc.strerror}") from exc
        self._lock = threading.Lock()
        self._usage = directory_usage(self.path)

    @property
    def usage(self) -> int:
        """Bytes in use when last measured (after the last invocation that had this directory)."""
        return self._usage

    @property
    def writable(self) -> bool:
        """Whether the next invocation gets the directory read-write (it is not above its quota)."""
        return self._usage <= self.quota

    def measure(self) -> int:
        """Measure the directory again and return its usage."""
        with self._lock:
            self._usage = directory_usage(self.path)
            return self._usage

    def __repr__(self) -> str:
        return f"DataDirectory({str(self.path)!r}, quota={self.quota}, usage={self._usage})"
