"""The registry's operator key: the Ed25519 key that signs its transparency log's checkpoints and countersigns
the claims of reserved namespaces.

It lives in ``<data_dir>/operator.key`` (mode 0600), made on first open. Its public key also names the log when the
operator sets no origin (:func:`default_origin`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from dmg.core.errors import KeyFileError
from dmg.core.keys import PublicKey, SigningKey

OPERATOR_KEY_FILE: Final = "operator.key"


def default_origin(operator: PublicKey) -> str:
    """The checkpoint origin of a registry that sets none: ``dmg.local/`` and 8 hex digits of its key's hash."""
    return f"dmg.local/{hashlib.sha256(operator.raw).hexdigest()[:8]}"


def load_operator_key(data_dir: Path) -> SigningKey:
    """The operator key in ``data_dir``, made (mode 0600) on first use."""
    path = data_dir / OPERATOR_KEY_FILE
    if not path.exists():
        try:
            SigningKey.generate().save(path)
        except KeyFileError:
            if not path.exists():
                raise
    return SigningKey.load(path)
