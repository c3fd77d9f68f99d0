"""The exception hierarchy of DMG.

Every error that bad input can cause is a subclass of :class:`DmgError` and carries a ``code`` from a small,
documented set (``BAD_REQUEST``, ``INVALID_SIGNATURE``, ``UNAUTHORIZED``, ``NOT_FOUND``, ``CONFLICT``,
``TOO_LARGE``, ``RATE_LIMITED``). The service layer maps the code to HTTP statuses and GraphQL
``extensions.code``; the CLI prints the message on one line. Messages are written for a person to act on.

This module defines types only, and :data:`ERROR_CLASSES`, the one table from code back to class (the HTTP client
uses it); it raises nothing itself.
"""

from __future__ import annotations


class DmgError(Exception):
    """Base class of every error DMG raises on purpose."""

    code = "BAD_REQUEST"


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

    code = "TOO_LARGE"


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

    code = "INVALID_SIGNATURE"


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

    code = "UNAUTHORIZED"


class ConflictError(LogError):
    """The entry conflicts with the log's history (a version released twice, a namespace claimed twice)."""

    code = "CONFLICT"


class NotFoundError(DmgError):
    """A name, version, record or block does not exist."""

    code = "NOT_FOUND"


class StoreError(DmgError):
    """The store cannot be opened or is inconsistent."""


class ConfigError(DmgError):
    """A setting (command-line flag, ``DMG_*`` environment variable or config file) is invalid."""


class RateLimitedError(DmgError):
    """A client sent more requests than the service allows; ``retry_after`` says how many seconds to wait."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


ERROR_CLASSES: dict[str, type[DmgError]] = {
    "BAD_REQUEST": DmgError,
    "INVALID_SIGNATURE": SignatureError,
    "UNAUTHORIZED": UnauthorizedError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "TOO_LARGE": TooLargeError,
    "RATE_LIMITED": RateLimitedError,
}
"""Each error code mapped to the most general class that carries it: how a client turns a code back into a type."""
