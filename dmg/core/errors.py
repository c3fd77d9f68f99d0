"""The exception hierarchy of DMG.

Every error that bad input can cause is a subclass of :class:`DmgError` and carries a ``code`` from one small,
documented set, :class:`ErrorCode`, each code with the HTTP status it is answered with beside it. The services send
the code as GraphQL ``extensions.code`` and in REST error bodies; the CLI prints the message on one line. Messages
are written for a person to act on.

This module defines types only, and :data:`ERROR_CLASSES`, the one table from code back to class (the HTTP client
uses it); it raises nothing itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    """The error codes of DMG's wire contract, each with its HTTP status (``ErrorCode.NOT_FOUND.http_status``)."""

    http_status: int

    def __new__(cls, value: str, http_status: int) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.http_status = http_status
        return member

    BAD_REQUEST = "BAD_REQUEST", 400
    INVALID_SIGNATURE = "INVALID_SIGNATURE", 400
    UNAUTHORIZED = "UNAUTHORIZED", 403
    NOT_FOUND = "NOT_FOUND", 404
    CONFLICT = "CONFLICT", 409
    TOO_LARGE = "TOO_LARGE", 413
    RATE_LIMITED = "RATE_LIMITED", 429
    INTERNAL = "INTERNAL", 500
    """A bug: the message is withheld from the client and the details go to the server's log."""
    # The orchestrator's control API adds these.
    INVALID_GRANT = "INVALID_GRANT", 400
    POLICY_REFUSED = "POLICY_REFUSED", 403
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION", 409
    NOT_RUNNING = "NOT_RUNNING", 409
    QUEUE_FULL = "QUEUE_FULL", 429
    FUNCTION_FAILED = "FUNCTION_FAILED", 422

    @classmethod
    def http_status_of(cls, code: str) -> int:
        """The HTTP status for ``code``; a code outside this set is a client error, 400."""
        member = cls._value2member_map_.get(code)
        return member.http_status if isinstance(member, ErrorCode) else 400


class DmgError(Exception):
    """Base class of every error DMG raises on purpose."""

    code: ClassVar[str] = ErrorCode.BAD_REQUEST


# --- blocks -------------------------------------------------------------------------------------------------


class CodecError(DmgError):
    """A value cannot be encoded as, or bytes cannot be decoded from, strict DAG-CBOR."""


class EncodeError(CodecError):
    """The value is outside the DAG-CBOR data model (e.g. NaN, a non-string map key, a set)."""


class DecodeError(CodecError):
    """The bytes are not valid strict DAG-CBOR; the message names the rule and the byte offset."""


class CIDError(DmgError):
    """A CID is malformed, uses an unsupported codec or hash, or does not match its block."""


class CARError(DmgError):
    """A CAR file is malformed, truncated, or holds a block that does not match its CID."""


class TooLargeError(DmgError):
    """Input exceeds a configured size limit."""

    code = ErrorCode.TOO_LARGE


# --- names and versions -------------------------------------------------------------------------------------


class DXNError(DmgError, ValueError):
    """A DXN does not follow the grammar; the message says what is wrong and where."""


class VersionError(DmgError, ValueError):
    """A version is not a valid SemVer 2.0 version."""


class RangeError(DmgError, ValueError):
    """A version range is not valid npm range syntax."""


# --- keys, signatures, records ------------------------------------------------------------------------------


class KeyFileError(DmgError):
    """A key file or key string cannot be read, written or parsed."""


class SignatureError(DmgError):
    """A signature is missing, malformed, or does not verify."""

    code = ErrorCode.INVALID_SIGNATURE


class RecordError(DmgError):
    """A record or log entry does not satisfy its schema; the message names the field."""


class ManifestError(DmgError):
    """A ``dmg.yml`` manifest is invalid; the message names the key and the problem."""


class BundleError(DmgError):
    """A bundle file is missing, invalid for its runtime, or its blocks do not assemble."""


# --- resolution and lockfiles -------------------------------------------------------------------------------


class ResolutionError(DmgError):
    """No set of versions satisfies the requirements; the message explains why in plain sentences."""


class LockfileError(DmgError):
    """A lockfile cannot be parsed or built; the message names the line or the entry and the problem."""


# --- name logs and the store --------------------------------------------------------------------------------


class LogError(DmgError):
    """A log entry does not extend its log validly (broken chain, wrong seq, time going backwards...)."""


class UnauthorizedError(LogError):
    """The signer does not hold the permission the entry needs over its namespace."""

    code = ErrorCode.UNAUTHORIZED


class ConflictError(LogError):
    """The entry conflicts with the log's history (a version released twice, a namespace claimed twice)."""

    code = ErrorCode.CONFLICT


class WriteRaceError(ConflictError):
    """Another writer (another process on the same store) appended to the log between validating and committing;
    validating again against the new state decides whether the write still stands."""


class NotFoundError(DmgError):
    """A name, version, record or block does not exist."""

    code = ErrorCode.NOT_FOUND


class StoreError(DmgError):
    """The store cannot be opened or is inconsistent."""


class UnitError(DmgError, ValueError):
    """A size or duration is not written as one (``32MiB``, ``5s``); the message names the setting."""


class ConfigError(DmgError):
    """A setting (command-line flag, ``DMG_*`` environment variable or config file) is invalid."""


class RateLimitedError(DmgError):
    """A client sent more requests than the service allows; ``retry_after`` says how many seconds to wait."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


ERROR_CLASSES: dict[str, type[DmgError]] = {
    ErrorCode.BAD_REQUEST: DmgError,
    ErrorCode.INVALID_SIGNATURE: SignatureError,
    ErrorCode.UNAUTHORIZED: UnauthorizedError,
    ErrorCode.NOT_FOUND: NotFoundError,
    ErrorCode.CONFLICT: ConflictError,
    ErrorCode.TOO_LARGE: TooLargeError,
    ErrorCode.RATE_LIMITED: RateLimitedError,
}
"""Each error code mapped to the most general class that carries it: how a client turns a code back into a type."""
