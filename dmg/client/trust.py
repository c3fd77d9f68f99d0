"""What a client remembers about the registries it reads from: their pinned log keys and the last checkpoints seen.

Kept under ``$XDG_CONFIG_HOME/dmg/trust/`` (``~/.config/dmg/trust`` when the variable is unset):

- ``pins.json``: registry URL → the note verifier key of its transparency log (``<origin>+<key ID>+<base64>``),
  pinned on first use or given with ``--registry-key``;
- ``checkpoints/<hash>.note``: the newest signed checkpoint verified from one log, keyed by the SHA-256 of its
  verifier key (which names the origin), so every URL serving the same log shares it.

Nothing here is secret. Files are written to a temporary name and renamed into place, so a crash never leaves half
a file, and a stored checkpoint is verified with its key again whenever it is read: an edited file is refused
(:class:`TrustStoreError`), never trusted.

:class:`TrustPolicy` is how a client judges a registry's log with such a store (pinning, maximum age, clock); the
judging itself is :mod:`dmg.client.transparency`'s job.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from dmg.core.checkpoint import NoteVerifier, SignedCheckpoint
from dmg.core.clock import now_ms
from dmg.core.errors import DmgError

PINS_FILE: Final = "pins.json"
CHECKPOINTS_DIR: Final = "checkpoints"
DEFAULT_MAX_AGE_MS: Final = 24 * 60 * 60 * 1000
"""A checkpoint signed longer ago than this (one day) is refused: the registry may be frozen."""


class TrustStoreError(DmgError):
    """The client's trust store cannot be read or written, or holds something that does not verify."""


def default_trust_dir() -> Path:
    """``$XDG_CONFIG_HOME/dmg/trust`` (``~/.config/dmg/trust`` when XDG_CONFIG_HOME is unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "dmg" / "trust"


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise TrustStoreError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc


class TrustStore:
    """Pins and last-seen checkpoints in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def default(cls) -> TrustStore:
        return cls(default_trust_dir())

    # --- pins -------------------------------------------------------------------------------------------------

    def _pins(self) -> dict[str, str]:
        path = self.directory / PINS_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TrustStoreError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
        try:
            pins = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrustStoreError(f"{str(path)!r} is not JSON ({exc}); fix or delete it") from exc
        if not isinstance(pins, dict) or not all(isinstance(v, str) for v in pins.values()):
            raise TrustStoreError(f"{str(path)!r} must map registry URLs to verifier keys; fix or delete it")
        return pins

    def pinned_key(self, registry: str) -> str | None:
        """The verifier key pinned for the registry at URL ``registry``, if any."""
        return self._pins().get(registry)

    def pin(self, registry: str, verifier_key: str) -> None:
        pins = self._pins()
        if pins.get(registry) != verifier_key:
            pins[registry] = verifier_key
            _write_atomically(self.directory / PINS_FILE, json.dumps(pins, indent=2, sort_keys=True) + "\n")

    # --- checkpoints ------------------------------------------------------------------------------------------

    def _checkpoint_path(self, verifier: NoteVerifier) -> Path:
        name = hashlib.sha256(verifier.to_vkey().encode("utf-8")).hexdigest()[:32]
        return self.directory / CHECKPOINTS_DIR / f"{name}.note"

    def last_checkpoint(self, verifier: NoteVerifier) -> SignedCheckpoint | None:
        """The newest checkpoint of ``verifier``'s log this client verified, checked again; None before the first."""
        path = self._checkpoint_path(verifier)
        try:
            note = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustStoreError(f"cannot read the stored checkpoint {str(path)!r}: {exc}") from exc
        try:
            return SignedCheckpoint.open(note, verifier)
        except DmgError as exc:
            raise TrustStoreError(
                f"the stored checkpoint {str(path)!r} does not verify with {verifier.name}'s key ({exc}); "
                "it was changed on disk: delete it only if you know why"
            ) from exc

    def remember(self, verifier: NoteVerifier, signed: SignedCheckpoint) -> None:
        """Store ``signed`` (already verified, and consistent with the stored one) unless a newer one is stored."""
        last = self.last_checkpoint(verifier)
        if last is None or (signed.size, signed.time) > (last.size, last.time):
            _write_atomically(self._checkpoint_path(verifier), signed.note)


@dataclass(frozen=True)
class TrustPolicy:
    """How a client judges a registry's log.

    ``store`` remembers pins and checkpoints (None: remember nothing, for a local data directory);
    ``registry_key`` pins the log key explicitly instead of trusting it on first use; ``max_age_ms`` bounds how old
    the newest checkpoint may be (None: no bound); ``clock`` gives the time in milliseconds.
    """

    store: TrustStore | None = None
    registry_key: str | None = None
    max_age_ms: int | None = DEFAULT_MAX_AGE_MS
    clock: Callable[[], int] = now_ms

    @classmethod
    def default(cls) -> TrustPolicy:
        """The policy of every command: the user's trust store, trust on first use, one day of maximum age."""
        return cls(TrustStore.default())
