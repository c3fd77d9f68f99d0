"""Field readers shared by the record classes: one call per field reads it from a decoded payload, checks its
type and says which field is wrong and why (``module record: field 'version' must be str, not int``).

These check the shape of what a payload holds; what a value means (a cron expression, a permission) is checked by
the record class that holds it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Final, TypeVar, overload

from dmg.core.dxn import DXN
from dmg.core.errors import DmgError, RecordError
from dmg.core.semver import Range, Version

PartT = TypeVar("PartT")
FieldT = TypeVar("FieldT")
OtherFieldT = TypeVar("OtherFieldT")
DefaultT = TypeVar("DefaultT")

MISSING: Final = object()
"""What :func:`optional` and its callers see for a field the payload lacks (``None`` is a value: CBOR null)."""


def is_map(value: Any) -> bool:
    # Decoded payloads hold plain dicts: the exact type test spares the slower ABC check in the common case.
    return type(value) is dict or isinstance(value, Mapping)


@overload
def required(data: Mapping[str, Any], key: str, kind: type[FieldT], where: str) -> FieldT: ...
@overload
def required(
    data: Mapping[str, Any], key: str, kind: tuple[type[FieldT], type[OtherFieldT]], where: str
) -> FieldT | OtherFieldT: ...
def required(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key, MISSING)
    if type(value) is kind:
        return value
    if value is MISSING:
        raise RecordError(f"{where}: missing field '{key}'")
    # bool is a subclass of int, but a flag where a count belongs is a mistake worth naming.
    if not isinstance(value, kind) or (
        isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RecordError(f"{where}: field '{key}' must be {names}, not {type(value).__name__}")
    return value


def optional(data: Mapping[str, Any], key: str, kind: type[FieldT], where: str, default: DefaultT) -> FieldT | DefaultT:
    value = data.get(key, MISSING)
    if value is MISSING:
        return default
    if type(value) is kind:
        return value
    return required(data, key, kind, where)


def non_negative(data: Mapping[str, Any], key: str, where: str) -> int:
    value = required(data, key, int, where)
    if value < 0:
        raise RecordError(f"{where}: field '{key}' must not be negative")
    return value


def unknown(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The fields of ``data`` not in ``known``, kept so that a record written by a newer version survives."""
    if data.keys() <= known:
        return {}
    return {key: value for key, value in data.items() if key not in known}


def build(cls: Callable[..., PartT], where: str, fields: Mapping[str, Any]) -> PartT:
    """``cls(**fields)`` for a part of a record, with ``where`` (its position) in front of a refusal.

    Constructors name the field they refuse (``cron: ...``); from a payload, the message then says where the part
    is (``triggers[0].spec.cron: ...``).
    """
    try:
        return cls(**fields)
    except RecordError as exc:
        raise RecordError(f"{where}.{exc}") from exc


def check_unrecognized(fields: Mapping[str, Any], known: frozenset[str]) -> None:
    """Refuse ``unrecognized_fields`` that hold a field the class knows: it would be written twice, or hidden."""
    clash = fields.keys() & known
    if clash:
        raise RecordError(f"unrecognized_fields: {sorted(clash)[0]!r} is a known field, to be set as such")


def check_type(data: Any, expected: str | tuple[str, ...], where: str) -> None:
    if not is_map(data):
        raise RecordError(f"{where} must be a map")
    allowed = (expected,) if isinstance(expected, str) else expected
    if data.get("type") not in allowed:
        raise RecordError(f"{where}: field 'type' must be {' or '.join(map(repr, allowed))}, not {data.get('type')!r}")


# Names, versions and ranges are immutable values and the same texts recur in every record and log entry, so
# parsing each text once is safe and saves most of the cost of validating a record.
_parse_dxn = functools.lru_cache(maxsize=8192)(DXN.parse)
_parse_version = functools.lru_cache(maxsize=8192)(Version.parse)
_parse_range = functools.lru_cache(maxsize=8192)(Range.parse)


def as_dxn(text: Any, where: str, *, selector: bool = False) -> DXN:
    """``text`` as a DXN; one with an ``@version`` only when ``selector``."""
    if not isinstance(text, str):
        raise RecordError(f"{where}: must be a DXN string")
    try:
        dxn = _parse_dxn(text)
    except DmgError as exc:
        raise RecordError(f"{where}: {exc}") from exc
    if not selector and dxn.selector is not None:
        raise RecordError(f"{where}: '{text}' must not carry an @version")
    return dxn


def as_version(text: Any, where: str) -> Version:
    if not isinstance(text, str):
        raise RecordError(f"{where}: must be a version string")
    try:
        return _parse_version(text)
    except DmgError as exc:
        raise RecordError(f"{where}: {exc}") from exc


def as_range(text: Any, where: str) -> Range:
    if not isinstance(text, str):
        raise RecordError(f"{where}: must be a version range string")
    try:
        return _parse_range(text)
    except DmgError as exc:
        raise RecordError(f"{where}: {exc}") from exc


EnumT = TypeVar("EnumT", bound=StrEnum)


def member(kind: type[EnumT], value: Any, where: str) -> EnumT:
    """``value`` as a member of the string enum ``kind``; the error lists the allowed spellings."""
    if isinstance(value, kind):
        return value
    if type(value) is str:
        try:
            return kind(value)
        except ValueError:
            pass
    names = [repr(str(item)) for item in kind]
    allowed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    raise RecordError(f"{where}: must be {allowed}, not {value!r}")
