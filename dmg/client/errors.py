"""Every way a client catches a registry that lied, broke the contract, or could not be reached.

One module, so that a caller (the CLI, federation's sync, the orchestrator's installer) finds each failure of a
registry by its type in one place:

- the answer itself: :class:`MalformedResponseError` (not the HTTP contract), :class:`BlockMismatchError` (bytes that
  do not hash to their CID), :class:`RecordMismatchError` (genuine signed data that is not what the registry said);
- the transparency log: :class:`RegistryKeyError` (another log key than the pinned one), :class:`StaleCheckpointError`
  (a frozen log), :class:`CheckpointRollbackError`, :class:`LogForkError` (a split view), :class:`InclusionError`
  (an entry relied on is not in the signed log);
- the transport: :class:`RegistryUnavailableError`.

Each is a :class:`~dmg.core.errors.DmgError` subclass of the kind of mistake it is, so it keeps that kind's code.
"""

from __future__ import annotations

from dmg.core.errors import CIDError, DmgError, LogError, RecordError, SignatureError


class MalformedResponseError(DmgError):
    """The registry's answer does not follow the HTTP contract (wrong shape, missing field, bad value)."""


class BlockMismatchError(CIDError):
    """A block sent by the registry does not hash to the CID it was requested by."""


class RecordMismatchError(RecordError):
    """Signed data sent by the registry is genuine but is not what the registry said it was."""


class RegistryKeyError(SignatureError):
    """The registry signs its log with a key other than the one this client pinned for it."""


class StaleCheckpointError(LogError):
    """The registry's newest checkpoint is older than the allowed maximum age (a freeze), or from the future."""


class CheckpointRollbackError(LogError):
    """The registry served a checkpoint older than one this client already verified from the same log."""


class LogForkError(LogError):
    """The registry's log is not an extension of the log this client saw before: it shows different logs to
    different clients (a split view)."""


class InclusionError(LogError):
    """An entry the registry relies on is not in its signed log."""


class RegistryUnavailableError(DmgError):
    """The registry cannot be reached, broke off the connection, or answered with a server failure."""
