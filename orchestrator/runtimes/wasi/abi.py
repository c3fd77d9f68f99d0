"""The names and numbers of the DMG function ABI (specified in ``docs/abi.md``, mirrored in ``fixtures/abi/dmg.h``).

Host imports live in the import module ``dmg``; long-lived modules export ``dmg_alloc`` and ``dmg_handle``. Every
host import returns one of the status codes below. :class:`HostCallError` is how the code behind a host import
refuses or fails a request; the host-call layer turns it into a status code and an ``{"error": ...}`` result.
"""

from __future__ import annotations

from typing import Any, Final

IMPORT_MODULE: Final = "dmg"
EXPORT_ALLOC: Final = "dmg_alloc"
EXPORT_HANDLE: Final = "dmg_handle"
EXPORT_MEMORY: Final = "memory"

OK: Final = 0
ERR_TOO_SMALL: Final = -1
ERR_DENIED: Final = -2
ERR_INVALID: Final = -3
ERR_FAILED: Final = -4
ERR_NO_RESULT: Final = -5

STATUS_NAMES: Final = {
    ERR_DENIED: "DENIED",
    ERR_INVALID: "INVALID",
    ERR_FAILED: "FAILED",
}


class HostCallError(Exception):
    """A host import refuses (``ERR_DENIED``, ``ERR_INVALID``) or fails (``ERR_FAILED``) a request."""

    def __init__(self, status: int, detail: str, error: dict[str, Any] | None = None) -> None:
        if status not in STATUS_NAMES:
            raise ValueError(f"{status} is not a status a host call fails with")
        self.status = status
        self.detail = detail
        self.error = error if error is not None else {"kind": STATUS_NAMES[status], "detail": detail}
        super().__init__(detail)
