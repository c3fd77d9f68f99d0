"""Triggers: when the orchestrator calls one of a module's functions, as a module record declares it.

A record's ``triggers`` list holds ``{function, spec, input}`` maps: :class:`Trigger`. Its ``spec`` is a DXOS
trigger spec discriminated by ``kind``, parsed into one class per kind:

- ``timer`` (:class:`TimerTrigger`): ``cron`` (a cron expression of at most 256 characters), optional ``catchUp``
  (``none``, ``one`` or ``all``: what to do about firings missed while the orchestrator was down; absent means
  ``none``);
- ``webhook`` (:class:`WebhookTrigger`): optional ``method`` (``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``;
  absent means ``POST``);
- ``subscription`` (:class:`SubscriptionTrigger`): ``query``, a query string or a map with optional ``typename``
  (string) and ``filter`` (map), and optional ``options`` with ``deep`` (bool: changes inside objects count) and
  ``delay`` (milliseconds to debounce, at least 0);
- ``queue`` (:class:`QueueTrigger`): ``queue``, the DXN of the queue whose items fire the function. DXOS 0.11 calls
  this trigger ``feed`` and the field ``feed``; ``{kind: "feed", feed: X}`` is read as the same trigger (a
  :class:`FeedTrigger`, a :class:`QueueTrigger` that remembers the spelling) and written back as it came;
- ``email`` (:class:`EmailTrigger`): no fields;
- ``registry`` (:class:`RegistryTrigger`): ``namespace``, optional ``dxn`` (a DXN in that namespace): registry
  events for the namespace, or for that one name;
- ``function`` (:class:`FunctionTrigger`): ``function`` (a DXN, optionally with a selector), optional ``on``
  (``success`` or ``failure``; absent means either): another function's invocation ending;
- ``signal`` (:class:`SignalTrigger`): ``name``, the signal that fires the function.

Fields are named as on the wire. An optional field that is absent stays ``None`` and is not written, and DXNs
keep the text they were written with (``dxn:com.example/queue/inbox`` stays as it is), so a spec encodes to the
bytes it was read from; fields a kind does not know are kept in ``unrecognized_fields`` and written back. Each
constructor checks its values and names the field (``cron: 'every minute' is not a valid cron expression``);
:meth:`TriggerSpec.from_dict` checks the shape of the payload and puts the spec's position in front of every
message (``triggers[0].spec.cron: ...``).

What the orchestrator does when a trigger fires (and whether it supports a kind at all) is not this module's
business; that ``function`` names a function of the module is :class:`~dmg.core.records.ModuleRecord`'s check.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Final

from croniter import croniter

from dmg.core.errors import RecordError
from dmg.core.records._fields import (
    as_dxn,
    build,
    check_unrecognized,
    is_map,
    member,
    non_negative,
    optional,
    required,
    unknown,
)

HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Schedules are a few fields; the bound also keeps the cache below small.
MAX_CRON_LENGTH: Final = 256
MAX_SIGNAL_LENGTH: Final = 256

_SIGNAL_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*\Z")


@functools.lru_cache(maxsize=1024)
def _valid_cron(expression: str) -> bool:
    # croniter expands the whole schedule to validate it (~1 ms); the same few expressions recur everywhere.
    return bool(croniter.is_valid(expression))


class CatchUp(StrEnum):
    """What a timer does about the firings it missed while nothing ran it."""

    NONE = "none"
    ONE = "one"
    ALL = "all"


class Outcome(StrEnum):
    """How the invocation a ``function`` trigger watches ended."""

    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, kw_only=True)
class TriggerSpec:
    """What every trigger spec has: its ``kind`` (a class constant) and the fields this version does not know."""

    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = ""
    KNOWN: ClassVar[frozenset[str]] = frozenset({"kind"})

    def __post_init__(self) -> None:
        check_unrecognized(self.unrecognized_fields, self.KNOWN)

    @staticmethod
    def from_dict(data: Any, where: str = "spec") -> TriggerSpec:
        """The spec of the class its ``kind`` names."""
        if not is_map(data):
            raise RecordError(f"{where} must be a map")
        kind = data.get("kind")
        spec_class = _SPEC_CLASSES.get(kind) if type(kind) is str else None
        if spec_class is None:
            raise RecordError(f"{where}.kind: must be one of {', '.join(TRIGGER_KINDS)}, not {kind!r}")
        fields = spec_class._read(data, where)
        return build(spec_class, where, {**fields, "unrecognized_fields": unknown(data, spec_class.KNOWN)})

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The constructor's arguments from a payload, each of the type the constructor takes."""
        return {}

    def _fields(self) -> dict[str, Any]:
        """The payload fields of this kind, optional ones only when they are set."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self._fields(), **self.unrecognized_fields}


@dataclass(frozen=True, kw_only=True)
class TimerTrigger(TriggerSpec):
    """Fires on a cron schedule."""

    cron: str
    catch_up: CatchUp | None = None

    kind: ClassVar = "timer"
    KNOWN: ClassVar = frozenset({"kind", "cron", "catchUp"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.cron, str):
            raise RecordError(f"cron: must be a string, not {type(self.cron).__name__}")
        if len(self.cron) > MAX_CRON_LENGTH:
            raise RecordError(f"cron: longer than {MAX_CRON_LENGTH} characters")
        if not _valid_cron(self.cron):
            raise RecordError(f"cron: {self.cron!r} is not a valid cron expression")
        if self.catch_up is not None:
            object.__setattr__(self, "catch_up", member(CatchUp, self.catch_up, "catchUp"))

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"cron": required(data, "cron", str, where)}
        if "catchUp" in data:
            fields["catch_up"] = member(CatchUp, data["catchUp"], f"{where}.catchUp")
        return fields

    def _fields(self) -> dict[str, Any]:
        return {"cron": self.cron, **({} if self.catch_up is None else {"catchUp": str(self.catch_up)})}


@dataclass(frozen=True, kw_only=True)
class WebhookTrigger(TriggerSpec):
    """Fires on an HTTP request to the function's webhook; ``method`` None (not written) means POST."""

    method: str | None = None

    kind: ClassVar = "webhook"
    KNOWN: ClassVar = frozenset({"kind", "method"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.method is not None and self.method not in HTTP_METHODS:
            raise RecordError(f"method: must be one of {', '.join(HTTP_METHODS)}, not {self.method!r}")

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {"method": optional(data, "method", str, where, None)}

    def _fields(self) -> dict[str, Any]:
        return {} if self.method is None else {"method": self.method}


@dataclass(frozen=True, kw_only=True)
class SubscriptionQuery:
    """The objects a subscription watches: those of type ``typename`` matching ``filter`` (each optional)."""

    typename: str | None = None
    filter: dict[str, Any] | None = None
    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    KNOWN: ClassVar = frozenset({"typename", "filter"})

    def __post_init__(self) -> None:
        check_unrecognized(self.unrecognized_fields, self.KNOWN)
        if self.typename is not None and not isinstance(self.typename, str):
            raise RecordError(f"typename: must be a string, not {type(self.typename).__name__}")
        if self.filter is not None and not is_map(self.filter):
            raise RecordError(f"filter: must be a map, not {type(self.filter).__name__}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> SubscriptionQuery:
        fields = {
            "typename": optional(data, "typename", str, where, None),
            "filter": optional(data, "filter", dict, where, None),
            "unrecognized_fields": unknown(data, cls.KNOWN),
        }
        return build(cls, where, fields)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.typename is not None:
            out["typename"] = self.typename
        if self.filter is not None:
            out["filter"] = self.filter
        return {**out, **self.unrecognized_fields}


@dataclass(frozen=True, kw_only=True)
class SubscriptionOptions:
    """How a subscription fires: on changes inside objects too (``deep``), debounced by ``delay`` milliseconds."""

    deep: bool | None = None
    delay: int | None = None
    unrecognized_fields: dict[str, Any] = field(default_factory=dict)

    KNOWN: ClassVar = frozenset({"deep", "delay"})

    def __post_init__(self) -> None:
        check_unrecognized(self.unrecognized_fields, self.KNOWN)
        if self.deep is not None and not isinstance(self.deep, bool):
            raise RecordError(f"deep: must be a bool, not {type(self.deep).__name__}")
        if self.delay is not None and (isinstance(self.delay, bool) or not isinstance(self.delay, int)):
            raise RecordError(f"delay: must be an integer, not {type(self.delay).__name__}")
        if self.delay is not None and self.delay < 0:
            raise RecordError("delay: must not be negative")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> SubscriptionOptions:
        fields = {
            "deep": required(data, "deep", bool, where) if "deep" in data else None,
            "delay": non_negative(data, "delay", where) if "delay" in data else None,
            "unrecognized_fields": unknown(data, cls.KNOWN),
        }
        return build(cls, where, fields)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.deep is not None:
            out["deep"] = self.deep
        if self.delay is not None:
            out["delay"] = self.delay
        return {**out, **self.unrecognized_fields}


@dataclass(frozen=True, kw_only=True)
class SubscriptionTrigger(TriggerSpec):
    """Fires when objects matching ``query`` (a query string, or a :class:`SubscriptionQuery`) change."""

    query: str | SubscriptionQuery
    options: SubscriptionOptions | None = None

    kind: ClassVar = "subscription"
    KNOWN: ClassVar = frozenset({"kind", "query", "options"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.query, str | SubscriptionQuery):
            raise RecordError(f"query: must be a string or a SubscriptionQuery, not {type(self.query).__name__}")
        if self.options is not None and not isinstance(self.options, SubscriptionOptions):
            raise RecordError(f"options: must be SubscriptionOptions, not {type(self.options).__name__}")

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        query = required(data, "query", (str, dict), where)
        options = optional(data, "options", dict, where, None)
        return {
            "query": query if isinstance(query, str) else SubscriptionQuery.from_dict(query, f"{where}.query"),
            "options": None if options is None else SubscriptionOptions.from_dict(options, f"{where}.options"),
        }

    def _fields(self) -> dict[str, Any]:
        query = self.query if isinstance(self.query, str) else self.query.to_dict()
        return {"query": query, **({} if self.options is None else {"options": self.options.to_dict()})}


@dataclass(frozen=True, kw_only=True)
class QueueTrigger(TriggerSpec):
    """Fires for each item appended to the queue ``queue`` (a DXN, as written)."""

    queue: str

    kind: ClassVar = "queue"
    KNOWN: ClassVar = frozenset({"kind", "queue"})
    SOURCE: ClassVar = "queue"
    """The payload field naming the queue."""

    def __post_init__(self) -> None:
        super().__post_init__()
        as_dxn(self.queue, self.SOURCE)

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {"queue": required(data, cls.SOURCE, str, where)}

    def _fields(self) -> dict[str, Any]:
        return {self.SOURCE: self.queue}


@dataclass(frozen=True, kw_only=True)
class FeedTrigger(QueueTrigger):
    """A queue trigger in DXOS 0.11's spelling, ``{kind: "feed", feed: DXN}``, kept so it encodes as it came."""

    kind: ClassVar = "feed"
    KNOWN: ClassVar = frozenset({"kind", "feed"})
    SOURCE: ClassVar = "feed"


@dataclass(frozen=True, kw_only=True)
class EmailTrigger(TriggerSpec):
    """Fires for each email delivered to the function."""

    kind: ClassVar = "email"


@dataclass(frozen=True, kw_only=True)
class RegistryTrigger(TriggerSpec):
    """Fires on registry events in ``namespace``, or only on those of ``dxn`` (a DXN in it, as written)."""

    namespace: str
    dxn: str | None = None

    kind: ClassVar = "registry"
    KNOWN: ClassVar = frozenset({"kind", "namespace", "dxn"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.namespace, str):
            raise RecordError(f"namespace: must be a string, not {type(self.namespace).__name__}")
        if self.dxn is not None:
            authority = as_dxn(self.dxn, "dxn").authority
            if authority != self.namespace:
                raise RecordError(f"dxn: {self.dxn!r} is not in namespace {self.namespace!r}")

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {"namespace": required(data, "namespace", str, where), "dxn": optional(data, "dxn", str, where, None)}

    def _fields(self) -> dict[str, Any]:
        return {"namespace": self.namespace, **({} if self.dxn is None else {"dxn": self.dxn})}


@dataclass(frozen=True, kw_only=True)
class FunctionTrigger(TriggerSpec):
    """Fires when an invocation of ``function`` (a DXN, maybe with a selector) ends: as ``on`` says, or either way."""

    function: str
    on: Outcome | None = None

    kind: ClassVar = "function"
    KNOWN: ClassVar = frozenset({"kind", "function", "on"})

    def __post_init__(self) -> None:
        super().__post_init__()
        as_dxn(self.function, "function", selector=True)
        if self.on is not None:
            object.__setattr__(self, "on", member(Outcome, self.on, "on"))

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"function": required(data, "function", str, where)}
        if "on" in data:
            fields["on"] = member(Outcome, data["on"], f"{where}.on")
        return fields

    def _fields(self) -> dict[str, Any]:
        return {"function": self.function, **({} if self.on is None else {"on": str(self.on)})}


@dataclass(frozen=True, kw_only=True)
class SignalTrigger(TriggerSpec):
    """Fires when the signal ``name`` is raised (letters, digits and ``._:/-``, at most 256 characters)."""

    name: str

    kind: ClassVar = "signal"
    KNOWN: ClassVar = frozenset({"kind", "name"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.name, str):
            raise RecordError(f"name: must be a string, not {type(self.name).__name__}")
        if len(self.name) > MAX_SIGNAL_LENGTH:
            raise RecordError(f"name: longer than {MAX_SIGNAL_LENGTH} characters")
        if not _SIGNAL_NAME.match(self.name):
            raise RecordError(f"name: {self.name!r} must be letters, digits and ._:/-, starting with a letter or digit")

    @classmethod
    def _read(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {"name": required(data, "name", str, where)}

    def _fields(self) -> dict[str, Any]:
        return {"name": self.name}


_SPEC_CLASSES: Final[dict[str, type[TriggerSpec]]] = {
    spec_class.kind: spec_class
    for spec_class in (
        TimerTrigger,
        WebhookTrigger,
        SubscriptionTrigger,
        QueueTrigger,
        FeedTrigger,
        EmailTrigger,
        RegistryTrigger,
        FunctionTrigger,
        SignalTrigger,
    )
}
TRIGGER_KINDS: Final = tuple(_SPEC_CLASSES)
"""Every ``kind`` a trigger spec may have (``feed`` being DXOS 0.11's name for ``queue``)."""


@dataclass(frozen=True, kw_only=True)
class Trigger:
    """Calls the module's function ``function`` with ``input`` (a template over the event) when ``spec`` fires."""

    function: str
    spec: TriggerSpec
    input: dict[str, Any] = field(default_factory=dict)

    KNOWN: ClassVar = frozenset({"function", "spec", "input"})

    def __post_init__(self) -> None:
        if not isinstance(self.function, str):
            raise RecordError(f"function: must be a string, not {type(self.function).__name__}")
        if not isinstance(self.spec, TriggerSpec):
            raise RecordError(f"spec: must be a TriggerSpec, not {type(self.spec).__name__}")
        if not is_map(self.input):
            raise RecordError(f"input: must be a map, not {type(self.input).__name__}")

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Trigger:
        if not is_map(data):
            raise RecordError(f"{where} must be a map")
        extra = data.keys() - cls.KNOWN
        if extra:
            raise RecordError(f"{where}: unknown field {sorted(extra)[0]!r}")
        fields = {
            "function": required(data, "function", str, where),
            "spec": TriggerSpec.from_dict(data.get("spec"), f"{where}.spec"),
            "input": optional(data, "input", dict, where, {}),
        }
        return build(cls, where, fields)

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "spec": self.spec.to_dict(), "input": self.input}
