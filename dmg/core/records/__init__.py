"""Record types: module records and the entries of namespace and DXN logs, one class per signed document.

In the manner of python-tuf: ``from_dict`` validates a decoded payload strictly and raises
:class:`~dmg.core.errors.RecordError` naming the field and the problem, the constructors (keywords only; a field
without a default is required) check what the values mean, and ``to_dict`` gives the payload map that is DAG-CBOR
encoded and signed, so a record read and written again encodes to the same bytes.

- :mod:`~dmg.core.records.module`: :class:`ModuleRecord` and its parts (:class:`FunctionSpec`,
  :class:`Resources`, :class:`Requirement`), :class:`Mode` and :class:`Runtime`;
- :mod:`~dmg.core.records.triggers`: :class:`Trigger` and one :class:`TriggerSpec` class per trigger kind;
- :mod:`~dmg.core.records.entries`: the log entries and :func:`parse_entry`;
- :mod:`~dmg.core.records.cache`: parsing each distinct record part once.

Everything public is importable from this package. Whether an entry may extend a log is
:mod:`dmg.core.namelog`'s job, and signatures are :mod:`dmg.core.envelope`'s.
"""

from dmg.core.records.entries import (
    PERMISSIONS,
    DXNEntry,
    LogEntry,
    NamespaceClaim,
    NamespaceEntry,
    NamespaceGrant,
    NamespaceRevoke,
    Release,
    Unyank,
    Yank,
    parse_entry,
)
from dmg.core.records.module import (
    MAX_DESCRIPTION,
    MAX_FUNCTIONS,
    MAX_LIST,
    SPACE_ACCESS,
    FunctionSpec,
    Mode,
    ModuleRecord,
    Requirement,
    Resources,
    Runtime,
)
from dmg.core.records.triggers import (
    HTTP_METHODS,
    MAX_CRON_LENGTH,
    MAX_SIGNAL_LENGTH,
    TRIGGER_KINDS,
    CatchUp,
    EmailTrigger,
    FeedTrigger,
    FunctionTrigger,
    Outcome,
    QueueTrigger,
    RegistryTrigger,
    SignalTrigger,
    SubscriptionOptions,
    SubscriptionQuery,
    SubscriptionTrigger,
    TimerTrigger,
    Trigger,
    TriggerSpec,
    WebhookTrigger,
)

__all__ = [
    "HTTP_METHODS",
    "MAX_CRON_LENGTH",
    "MAX_DESCRIPTION",
    "MAX_FUNCTIONS",
    "MAX_LIST",
    "MAX_SIGNAL_LENGTH",
    "PERMISSIONS",
    "SPACE_ACCESS",
    "TRIGGER_KINDS",
    "CatchUp",
    "DXNEntry",
    "EmailTrigger",
    "FeedTrigger",
    "FunctionSpec",
    "FunctionTrigger",
    "LogEntry",
    "Mode",
    "ModuleRecord",
    "NamespaceClaim",
    "NamespaceEntry",
    "NamespaceGrant",
    "NamespaceRevoke",
    "Outcome",
    "QueueTrigger",
    "RegistryTrigger",
    "Release",
    "Requirement",
    "Resources",
    "Runtime",
    "SignalTrigger",
    "SubscriptionOptions",
    "SubscriptionQuery",
    "SubscriptionTrigger",
    "TimerTrigger",
    "Trigger",
    "TriggerSpec",
    "Unyank",
    "WebhookTrigger",
    "Yank",
    "parse_entry",
]
