"""The operator's policy: reading it (file and --grant), and its decision on what a module asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dmg.core.cid import CID, RAW
from dmg.core.dxn import DXN
from dmg.core.records import ModuleRecord, Resources
from dmg.core.semver import Version
from dmg.core.units import GiB, KiB, MiB
from orchestrator.errors import GrantError, PolicyError
from orchestrator.policy import GrantedResources, GrantSet, Policy, refuse
from orchestrator.runtimes.limits import Limits

NAME = "com.example/function/mail"
BUNDLE = CID.of(b"bundle", RAW)


def record(name: str = NAME, **resources: Any) -> ModuleRecord:
    return ModuleRecord(
        dxn=DXN.parse(name), version=Version.parse("1.0.0"), runtime="wasi", bundle=BUNDLE,
        resources=Resources(**resources),
    )  # fmt: skip


POLICY = Policy.from_dict(
    {
        "defaults": {"memory": "32MiB", "timeout": "5s", "fuel": 1_000_000},
        "allow": {
            "memory": "128MiB",
            "timeout": "30s",
            "storage": "16MiB",
            "network": ["api.example.com", "127.0.0.1:8080", "*.example.org:8443"],
            "spaces": "read",
        },
        "modules": {NAME: {"network": ["imap.example.com:993"], "spaces": "read-write"}},
    }
)


# --- reading ---------------------------------------------------------------------------------------------------


def test_grants_parse_units_repeated_network_and_round_trip() -> None:
    grants = GrantSet.parse(["memory=128MiB", "timeout=2s", "fuel=1000", "storage=1GiB", "spaces=read"])
    assert (grants.memory, grants.timeout_ms, grants.fuel, grants.storage) == (128 * MiB, 2000, 1000, GiB)
    hosts = GrantSet.parse(["network=a.example.com:1,b.example.com", "network=*.c.example.com"])
    assert [str(entry) for entry in hosts.network] == ["a.example.com:1", "b.example.com", "*.c.example.com"]
    assert GrantSet.parse(grants.to_list()) == grants
    assert not GrantSet.parse([])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["memory"], r"grant 'memory': write KEY=VALUE"),
        (["=5"], r"write KEY=VALUE with KEY one of memory, timeout"),
        (["cpu=5"], r"grant\.cpu: unknown resource"),
        (["memory=5 potatoes"], r"grant\.memory: '5 potatoes' is not a size"),
        (["timeout=soon"], r"grant\.timeout: 'soon' is not a duration"),
        (["fuel=-1"], r"grant\.fuel: must be a non-negative integer"),
        (["spaces=all"], r"grant\.spaces: must be one of none, read, read-write, not 'all'"),
        (["network=http://x.com"], r"'http://x\.com' is not host, host:port"),
        (["memory=1MiB", "memory=2MiB"], r"memory is granted twice"),
    ],
)
def test_bad_grants_name_the_option(options: list[str], message: str) -> None:
    with pytest.raises(GrantError, match=message):
        GrantSet.parse(options)


def test_grants_must_be_a_list() -> None:
    with pytest.raises(GrantError, match="a list of KEY=VALUE strings"):
        GrantSet.parse("memory=1MiB")


def test_policy_file_is_read_and_shown(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[allow]\nnetwork = ["api.example.com:443"]\nstorage = "1MiB"\n[modules."com.example/function/x"]\nfuel = 5\n'
    )
    policy = Policy.load(path)
    shown = policy.to_dict()
    assert shown["allow"]["network"] == ["api.example.com:443"] and shown["allow"]["storage"] == MiB
    assert shown["modules"] == {"com.example/function/x": ["fuel=5"]}
    assert policy.limit_policy.defaults == Limits()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[allow\n", "is not valid TOML"),
        ("[limits]\nmemory = 1\n", r"unknown table \[limits\]"),
        ("[allow]\ncpu = 1\n", r"allow\.cpu: unknown resource"),
        ('[allow]\nnetwork = "api.example.com"\n', r"allow\.network: must be a list of hosts"),
        ('[allow]\nmemory = "2GiB"\n', r"allow\.memory: 2 GiB is above the runtime's maximum of 1 GiB"),
        ('[defaults]\nmemory = "2GiB"\n', r"limits\.memory: the default 2147483648 is above the maximum"),
        ("[defaults]\nstorage = 1\n", r"defaults\.storage: unknown limit"),
        ('[modules."com.example/function/x@1.0.0"]\nfuel = 1\n', "name a module without @version"),
        ('[modules."Not A DXN"]\nfuel = 1\n', r"modules\.Not A DXN"),
        ("modules = 5\n", "modules must hold tables"),
        ('[modules."com.example/function/x"]\nstorage = "5GiB"\n', r"modules\.com\.example/function/x\.storage"),
    ],
)
def test_bad_policy_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(GrantError, match=message):
        Policy.load(path)


def test_missing_policy_file() -> None:
    with pytest.raises(GrantError, match="No such file"):
        Policy.load("/nonexistent/policy.toml")


# --- deciding --------------------------------------------------------------------------------------------------


def test_a_module_asking_nothing_gets_the_defaults_and_nothing_else() -> None:
    decision = POLICY.decide(record())
    assert decision.allowed and decision.checks == () and decision.refusals == ()
    granted = decision.granted
    assert granted is not None
    assert (granted.limits.memory, granted.limits.timeout_ms, granted.limits.fuel) == (32 * MiB, 5000, 1_000_000)
    assert (granted.storage, granted.network, granted.spaces) == (None, (), "none")


def test_a_module_gets_what_it_asks_within_the_allowance() -> None:
    asked = record(
        memory=64 * MiB, cpu_timeout_ms=20_000, storage=MiB, network=("api.example.com", "x.example.org:8443"),
        spaces="read-write",
    )  # fmt: skip
    decision = POLICY.decide(asked)
    assert decision.allowed, decision.refusals
    granted = decision.granted
    assert granted is not None
    assert (granted.limits.memory, granted.limits.timeout_ms, granted.storage) == (64 * MiB, 20_000, MiB)
    assert granted.network == ("api.example.com", "x.example.org:8443") and granted.spaces == "read-write"
    assert [check.resource for check in decision.checks] == [
        "memory", "cpu.timeout", "storage", "network", "network", "spaces",
    ]  # fmt: skip


def test_refusals_name_what_was_asked_and_what_is_allowed() -> None:
    greedy = record(
        "com.example/function/greedy", memory=512 * MiB, cpu_fuel=10**12, storage=GiB,
        network=("api.example.com:8443", "evil.example.net", "example.org:8443"), spaces="read-write",
    )  # fmt: skip
    decision = POLICY.decide(greedy)
    assert not decision.allowed and decision.granted is None
    allowed_hosts = "api.example.com, 127.0.0.1:8080, *.example.org:8443"
    assert decision.refusals == (
        "com.example/function/greedy asks for memory 512 MiB; the policy allows 128 MiB",
        "com.example/function/greedy asks for cpu.fuel 1000000000000; the policy allows 1000000",
        "com.example/function/greedy asks for storage 1 GiB; the policy allows 16 MiB",
        f"com.example/function/greedy asks for network api.example.com:8443; the policy allows {allowed_hosts}",
        f"com.example/function/greedy asks for network evil.example.net; the policy allows {allowed_hosts}",
        f"com.example/function/greedy asks for network example.org:8443; the policy allows {allowed_hosts}",
        "com.example/function/greedy asks for spaces read-write; the policy allows read",
    )
    with pytest.raises(PolicyError) as caught:
        refuse([decision, POLICY.decide(record())])
    assert caught.value.code == "POLICY_REFUSED" and caught.value.refusals == decision.refusals
    assert "512 MiB" in str(caught.value) and "--grant" in str(caught.value)
    refuse([POLICY.decide(record())])


def test_nothing_is_allowed_by_default_beyond_the_runtime_defaults() -> None:
    default = Policy()
    for asked in ({"storage": KiB}, {"network": ("api.example.com",)}, {"spaces": "read"}, {"memory": 65 * MiB}):
        assert not default.decide(record(**asked)).allowed, asked
    assert default.decide(record(memory=64 * MiB)).allowed
    assert default.decide(record(storage=KiB)).refusals == (
        f"{NAME} asks for storage 1 KiB; the policy allows no storage",
    )


def test_grants_and_module_tables_widen_the_allowance() -> None:
    imap = record(network=("imap.example.com:993",), spaces="read-write")
    assert POLICY.decide(imap).allowed
    assert not POLICY.decide(record("com.example/function/other", network=("imap.example.com:993",))).allowed
    big = record(memory=256 * MiB, network=("cdn.example.net",))
    assert not POLICY.decide(big).allowed
    assert POLICY.decide(big, GrantSet.parse(["memory=256MiB", "network=*.example.net"])).allowed
    assert not POLICY.decide(record(memory=64 * MiB), GrantSet.parse(["memory=32MiB"])).allowed
    with pytest.raises(GrantError, match=r"grant\.memory: 4 GiB is above the runtime's maximum of 1 GiB"):
        POLICY.decide(record(), GrantSet.parse(["memory=4GiB"]))


def test_a_narrower_grant_lowers_the_defaults_of_what_is_not_asked() -> None:
    granted = POLICY.decide(record(), GrantSet.parse(["memory=16MiB"])).granted
    assert granted is not None and granted.limits.memory == 16 * MiB


@pytest.mark.parametrize(
    ("allowed", "asked", "covered"),
    [
        ("api.example.com", "api.example.com", True),
        ("api.example.com", "api.example.com:443", False),
        ("api.example.com:443", "api.example.com", False),
        ("*.example.com", "a.b.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "*.b.example.com", True),
        ("*.example.com", "*.example.com", True),
        ("*.b.example.com", "*.example.com", False),
        ("a.example.com", "*.example.com", False),
        ("*.example.com:8443", "a.example.com", False),
        ("127.0.0.1:8080", "127.0.0.1:8080", True),
        ("127.0.0.1:8080", "localhost:8080", False),
    ],
)
def test_network_coverage(allowed: str, asked: str, covered: bool) -> None:
    policy = Policy.from_dict({"allow": {"network": [allowed]}})
    assert policy.decide(record(network=(asked,))).allowed is covered


def test_granted_resources_round_trip_and_reject_damage() -> None:
    granted = POLICY.decide(record(storage=MiB, network=("api.example.com",))).granted
    assert granted is not None
    assert GrantedResources.from_dict(granted.to_dict()) == granted
    damaged: list[Any] = [
        {},
        {**granted.to_dict(), "storage": -1},
        {**granted.to_dict(), "network": ["http://x"]},
        {**granted.to_dict(), "spaces": "all"},
        {**granted.to_dict(), "limits": 5},
        {**granted.to_dict(), "limits": {"memory": -1}},
    ]
    for data in damaged:
        with pytest.raises(GrantError):
            GrantedResources.from_dict(data)
