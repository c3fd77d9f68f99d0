"""Bundle contents made by hand for the runtimes that have no fixture of their own."""

from __future__ import annotations

import io
import tarfile


def oci_layout() -> bytes:
    """The smallest tarball a container bundle accepts."""
    layout = io.BytesIO()
    with tarfile.open(fileobj=layout, mode="w") as archive:
        for name in ("oci-layout", "index.json"):
            info = tarfile.TarInfo(name)
            info.size = 2
            archive.addfile(info, io.BytesIO(b"{}"))
    return layout.getvalue()
