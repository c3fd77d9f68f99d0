from __future__ import annotations

from typing import Any

import pytest

from dmg.core import codec
from dmg.core.errors import RecordError
from dmg.core.records import (
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

# Every spec the records accepted before trigger kinds had classes, and what each is read as now.
ACCEPTED = [
    ({"kind": "timer", "cron": "0 * * * *"}, TimerTrigger(cron="0 * * * *")),
    ({"kind": "webhook", "method": "GET"}, WebhookTrigger(method="GET")),
    ({"kind": "webhook"}, WebhookTrigger()),
    (
        {"kind": "subscription", "query": {"type": "dxos.org/type/Message"}, "options": {"deep": True, "delay": 100}},
        SubscriptionTrigger(
            query=SubscriptionQuery(unrecognized_fields={"type": "dxos.org/type/Message"}),
            options=SubscriptionOptions(deep=True, delay=100),
        ),
    ),
    ({"kind": "subscription", "query": "q"}, SubscriptionTrigger(query="q")),
    ({"kind": "queue", "queue": "com.example/queue/inbox"}, QueueTrigger(queue="com.example/queue/inbox")),
    ({"kind": "email"}, EmailTrigger()),
    ({"kind": "registry", "namespace": "org.dxos"}, RegistryTrigger(namespace="org.dxos")),
    (
        {"kind": "function", "function": "com.example/function/other"},
        FunctionTrigger(function="com.example/function/other"),
    ),
]

NEW = [
    (
        {"kind": "timer", "cron": "*/5 * * * *", "catchUp": "all"},
        TimerTrigger(cron="*/5 * * * *", catch_up=CatchUp.ALL),
    ),
    (
        {"kind": "subscription", "query": {"typename": "dxos.org/type/Task", "filter": {"done": False}}},
        SubscriptionTrigger(query=SubscriptionQuery(typename="dxos.org/type/Task", filter={"done": False})),
    ),
    ({"kind": "feed", "feed": "com.example/feed/mail"}, FeedTrigger(queue="com.example/feed/mail")),
    (
        {"kind": "registry", "namespace": "org.dxos", "dxn": "org.dxos/function/indexer"},
        RegistryTrigger(namespace="org.dxos", dxn="org.dxos/function/indexer"),
    ),
    (
        {"kind": "function", "function": "com.example/function/other@^2", "on": "success"},
        FunctionTrigger(function="com.example/function/other@^2", on=Outcome.SUCCESS),
    ),
    ({"kind": "signal", "name": "com.example/ready"}, SignalTrigger(name="com.example/ready")),
]


@pytest.mark.parametrize(("payload", "spec"), ACCEPTED + NEW, ids=lambda item: getattr(item, "kind", None))
def test_each_kind_is_its_class_and_encodes_as_it_came(payload: dict[str, Any], spec: TriggerSpec) -> None:
    parsed = TriggerSpec.from_dict(payload)
    assert parsed == spec and type(parsed) is type(spec)
    assert parsed.to_dict() == payload
    assert codec.encode(spec.to_dict()) == codec.encode(payload)


def test_every_kind_has_a_class() -> None:
    assert TRIGGER_KINDS == (
        "timer", "webhook", "subscription", "queue", "feed", "email", "registry", "function", "signal",
    )  # fmt: skip
    assert {payload["kind"] for payload, _ in ACCEPTED + NEW} == set(TRIGGER_KINDS)


def test_feed_is_the_dxos_spelling_of_a_queue_trigger() -> None:
    feed = TriggerSpec.from_dict({"kind": "feed", "feed": "com.example/feed/mail"})
    assert isinstance(feed, QueueTrigger) and feed.queue == "com.example/feed/mail" and feed.kind == "feed"
    assert QueueTrigger(queue="com.example/feed/mail") != feed
    with pytest.raises(RecordError, match=r"^spec: missing field 'feed'"):
        TriggerSpec.from_dict({"kind": "feed", "queue": "com.example/feed/mail"})


def test_unknown_fields_and_dxn_spellings_are_kept() -> None:
    payload = {"kind": "queue", "queue": "dxn:Com.Example/queue/inbox", "concurrency": 4}
    spec = TriggerSpec.from_dict(payload)
    assert spec.unrecognized_fields == {"concurrency": 4}
    assert spec.to_dict() == payload
    options = {"kind": "subscription", "query": "q", "options": {"deep": False, "batch": 10}}
    assert TriggerSpec.from_dict(options).to_dict() == options


def test_a_trigger_holds_a_typed_spec() -> None:
    payload = {"function": "sync", "spec": {"kind": "email"}, "input": {"from": "{{event.from}}"}}
    trigger = Trigger.from_dict(payload, "triggers[0]")
    assert trigger == Trigger(function="sync", spec=EmailTrigger(), input={"from": "{{event.from}}"})
    assert trigger.to_dict() == payload
    assert Trigger.from_dict({"function": "sync", "spec": {"kind": "email"}}, "t").to_dict()["input"] == {}
    with pytest.raises(RecordError, match=r"^spec: must be a TriggerSpec, not dict"):
        Trigger(function="sync", spec={"kind": "email"})  # type: ignore[arg-type]


BAD = [
    ({"kind": "telepathy"}, r"^t\.spec\.kind: must be one of timer, webhook, subscription, queue, feed, email"),
    ({"kind": 1}, r"^t\.spec\.kind: must be one of"),
    ({"kind": "timer"}, r"^t\.spec: missing field 'cron'"),
    ({"kind": "timer", "cron": "every minute"}, r"^t\.spec\.cron: 'every minute' is not a valid cron expression"),
    ({"kind": "timer", "cron": "* " * 200 + "*"}, r"^t\.spec\.cron: longer than 256 characters"),
    ({"kind": "timer", "cron": "* * * * *", "catchUp": "some"}, r"^t\.spec\.catchUp: must be 'none', 'one' or 'all'"),
    ({"kind": "webhook", "method": "BREW"}, r"^t\.spec\.method: must be one of GET, POST, PUT, PATCH, DELETE"),
    ({"kind": "webhook", "method": 1}, r"^t\.spec: field 'method' must be str, not int"),
    ({"kind": "subscription"}, r"^t\.spec: missing field 'query'"),
    ({"kind": "subscription", "query": 3}, r"^t\.spec: field 'query' must be str or dict, not int"),
    ({"kind": "subscription", "query": {"typename": 3}}, r"^t\.spec\.query: field 'typename' must be str"),
    ({"kind": "subscription", "query": {"filter": "x"}}, r"^t\.spec\.query: field 'filter' must be dict"),
    ({"kind": "subscription", "query": "q", "options": {"deep": "yes"}}, r"^t\.spec\.options: field 'deep' must be"),
    ({"kind": "subscription", "query": "q", "options": {"delay": -1}}, r"^t\.spec\.options: field 'delay' must not"),
    ({"kind": "subscription", "query": "q", "options": []}, r"^t\.spec: field 'options' must be dict"),
    ({"kind": "queue", "queue": "nope"}, r"^t\.spec\.queue: invalid DXN 'nope'"),
    ({"kind": "queue", "queue": "com.example/queue/inbox@1.0.0"}, r"^t\.spec\.queue: .* must not carry an @version"),
    ({"kind": "feed", "feed": "nope"}, r"^t\.spec\.feed: invalid DXN 'nope'"),
    ({"kind": "registry"}, r"^t\.spec: missing field 'namespace'"),
    (
        {"kind": "registry", "namespace": "org.dxos", "dxn": "com.example/function/x"},
        r"^t\.spec\.dxn: 'com.example/function/x' is not in namespace 'org.dxos'",
    ),
    ({"kind": "function", "function": "x"}, r"^t\.spec\.function: invalid DXN 'x'"),
    ({"kind": "function", "function": "com.example/function/x", "on": "done"}, r"^t\.spec\.on: must be 'success' or"),
    ({"kind": "signal"}, r"^t\.spec: missing field 'name'"),
    ({"kind": "signal", "name": ""}, r"^t\.spec\.name: '' must be letters, digits"),
    ({"kind": "signal", "name": "a b"}, r"^t\.spec\.name: 'a b' must be letters, digits"),
    ({"kind": "signal", "name": "s" * 257}, r"^t\.spec\.name: longer than 256 characters"),
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_bad_specs_name_the_field(spec: Any, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        Trigger.from_dict({"function": "sync", "spec": spec}, "t")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TimerTrigger(cron="never"), "^cron: 'never' is not a valid cron expression"),
        (lambda: TimerTrigger(cron="* * * * *", catch_up="twice"), "^catchUp: must be 'none', 'one' or 'all'"),
        (lambda: WebhookTrigger(method="get"), "^method: must be one of GET"),
        (lambda: SubscriptionTrigger(query={"typename": "x"}), "^query: must be a string or a SubscriptionQuery"),
        (lambda: SubscriptionOptions(delay=-5), "^delay: must not be negative"),
        (lambda: SubscriptionOptions(deep=1), "^deep: must be a bool, not int"),
        (lambda: QueueTrigger(queue="com.example/queue/q@^1"), "^queue: .* must not carry an @version"),
        (lambda: FunctionTrigger(function="com.example/function/f", on="later"), "^on: must be 'success' or 'failure'"),
        (lambda: SignalTrigger(name="-x"), "^name: '-x' must be letters"),
        (
            lambda: TimerTrigger(cron="* * * * *", unrecognized_fields={"cron": "x"}),
            "^unrecognized_fields: 'cron' is a known field",
        ),
    ],
)
def test_spec_constructors_check_their_values(build: Any, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        build()


def test_optional_fields_are_typed_when_set() -> None:
    timer = TimerTrigger(cron="* * * * *", catch_up="one")
    assert timer.catch_up is CatchUp.ONE and timer.to_dict() == {"kind": "timer", "cron": "* * * * *", "catchUp": "one"}
    assert FunctionTrigger(function="com.example/function/f", on="failure").on is Outcome.FAILURE
    assert TimerTrigger(cron="* * * * *").to_dict() == {"kind": "timer", "cron": "* * * * *"}
