from __future__ import annotations

import pytest

from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError, LogError, UnauthorizedError
from dmg.core.keys import SigningKey
from dmg.core.namelog import DXNLogState, NamespaceState, exported_prefix
from dmg.core.records import NamespaceClaim, NamespaceGrant, NamespaceRevoke, Release, Unyank, Yank
from dmg.core.semver import Version

OWNER = SigningKey.from_seed(b"o" * 32).public_key
TEAM = SigningKey.from_seed(b"t" * 32).public_key
STRANGER = SigningKey.from_seed(b"s" * 32).public_key
NS = "com.example"
X = DXN.parse("com.example/function/x")
V1 = Version.parse("1.0.0")


def cid(n: int) -> CID:
    return CID.of(str(n).encode())


def claimed() -> NamespaceState:
    entry = NamespaceClaim(seq=0, prev=None, time=10, namespace=NS, keys=(OWNER,))
    return NamespaceState(NS).apply(cid(0), entry, frozenset({OWNER}))


def test_claim_gives_every_permission() -> None:
    state = claimed()
    assert state.claimed and state.head.seq == 0 and state.head.cid == cid(0)
    assert state.holders("release") == state.holders("grant") == {OWNER}


def test_claim_must_be_signed_by_a_claimed_key() -> None:
    entry = NamespaceClaim(seq=0, prev=None, time=10, namespace=NS, keys=(OWNER,))
    with pytest.raises(UnauthorizedError):
        NamespaceState(NS).apply(cid(0), entry, frozenset({STRANGER}))


def test_second_claim_conflicts() -> None:
    entry = NamespaceClaim(seq=1, prev=cid(0), time=11, namespace=NS, keys=(STRANGER,))
    with pytest.raises(ConflictError, match="already claimed"):
        claimed().apply(cid(1), entry, frozenset({STRANGER}))


def test_grant_then_revoke_rotates_a_key() -> None:
    grant = NamespaceGrant(
        seq=1, prev=cid(0), time=11, namespace=NS, key=TEAM, permissions=frozenset({"grant", "release"})
    )
    state = claimed().apply(cid(1), grant, frozenset({OWNER}))
    assert state.holders("release") == {OWNER, TEAM}
    revoke = NamespaceRevoke(seq=2, prev=cid(1), time=12, namespace=NS, key=OWNER)
    state = state.apply(cid(2), revoke, frozenset({TEAM}))
    assert state.holders("grant") == {TEAM}
    assert state.revoked == {OWNER}
    with pytest.raises(UnauthorizedError, match="was revoked"):
        state.require("release", frozenset({OWNER}), "a release")


def test_revoking_the_last_granter_is_refused() -> None:
    with pytest.raises(ConflictError, match="no key able to grant"):
        claimed().apply(
            cid(1), NamespaceRevoke(seq=1, prev=cid(0), time=11, namespace=NS, key=OWNER), frozenset({OWNER})
        )


def test_revoking_an_unknown_key_conflicts() -> None:
    entry = NamespaceRevoke(seq=1, prev=cid(0), time=11, namespace=NS, key=STRANGER)
    with pytest.raises(ConflictError, match="holds no permission"):
        claimed().apply(cid(1), entry, frozenset({OWNER}))


def test_grant_needs_the_grant_permission() -> None:
    state = claimed().apply(
        cid(1),
        NamespaceGrant(seq=1, prev=cid(0), time=11, namespace=NS, key=TEAM, permissions=frozenset({"release"})),
        frozenset({OWNER}),
    )
    entry = NamespaceGrant(seq=2, prev=cid(1), time=12, namespace=NS, key=STRANGER, permissions=frozenset({"yank"}))
    with pytest.raises(UnauthorizedError, match="'grant'"):
        state.apply(cid(2), entry, frozenset({TEAM}))


@pytest.mark.parametrize(
    ("seq", "prev", "time", "message"),
    [
        (2, 0, 11, "seq 2, expected 1"),
        (1, 5, 11, "is not the log head"),
        (1, 0, 9, "before the previous entry's time"),
    ],
)
def test_chain_rules(seq: int, prev: int, time: int, message: str) -> None:
    entry = NamespaceGrant(seq=seq, prev=cid(prev), time=time, namespace=NS, key=TEAM, permissions=frozenset({"yank"}))
    with pytest.raises(LogError, match=message):
        claimed().apply(cid(1), entry, frozenset({OWNER}))


def test_entry_for_another_namespace_is_refused() -> None:
    entry = NamespaceGrant(
        seq=1, prev=cid(0), time=11, namespace="org.other", key=TEAM, permissions=frozenset({"yank"})
    )
    with pytest.raises(LogError, match="cannot extend"):
        claimed().apply(cid(1), entry, frozenset({OWNER}))


def test_unclaimed_namespace_authorises_nobody() -> None:
    assert not NamespaceState(NS).allows("release", frozenset({OWNER}))
    with pytest.raises(UnauthorizedError, match="not claimed"):
        NamespaceState(NS).require("release", frozenset({OWNER}), "a release")


def test_allows_counts_distinct_signers_holding_the_permission() -> None:
    state = claimed().apply(
        cid(1),
        NamespaceGrant(seq=1, prev=cid(0), time=11, namespace=NS, key=TEAM, permissions=frozenset({"release"})),
        frozenset({OWNER}),
    )
    assert state.allows("release", frozenset({TEAM}))
    assert not state.allows("grant", frozenset({TEAM, STRANGER}))
    assert state.allows("release", frozenset({OWNER, TEAM, STRANGER}), needed=2)
    assert not state.allows("grant", frozenset({OWNER, TEAM}), needed=2)
    assert not state.allows("release", frozenset())


def test_release_by_a_key_without_release_is_unauthorised() -> None:
    with pytest.raises(UnauthorizedError, match=f"a release of {X}@{V1}"):
        DXNLogState(X).apply(cid(10), release(0), frozenset({STRANGER}), claimed())


def release(seq: int, version: Version = V1, prev: CID | None = None, time: int = 20) -> Release:
    return Release(seq=seq, prev=prev, time=time, dxn=X, version=version, record=cid(100 + seq))


def test_release_yank_unyank_cycle() -> None:
    namespace = claimed()
    log = DXNLogState(X).apply(cid(10), release(0), frozenset({OWNER}), namespace)
    assert log.released == {V1: cid(100)}
    log = log.apply(
        cid(11), Yank(seq=1, prev=cid(10), time=21, dxn=X, version=V1, reason="bad"), frozenset({OWNER}), namespace
    )
    assert log.yanked == {V1: "bad"}
    log = log.apply(cid(12), Unyank(seq=2, prev=cid(11), time=22, dxn=X, version=V1), frozenset({OWNER}), namespace)
    assert log.yanked == {}
    assert log.head.seq == 2


def test_a_version_is_released_at_most_once_even_after_yank() -> None:
    namespace = claimed()
    log = DXNLogState(X).apply(cid(10), release(0), frozenset({OWNER}), namespace)
    log = log.apply(
        cid(11), Yank(seq=1, prev=cid(10), time=21, dxn=X, version=V1, reason="r"), frozenset({OWNER}), namespace
    )
    with pytest.raises(ConflictError, match="already released"):
        log.apply(cid(12), release(2, prev=cid(11)), frozenset({OWNER}), namespace)
    same_precedence = Version.parse("1.0.0+build.7")
    with pytest.raises(ConflictError, match="already released"):
        log.apply(cid(12), release(2, same_precedence, prev=cid(11)), frozenset({OWNER}), namespace)


def test_yank_only_released_and_not_twice() -> None:
    namespace = claimed()
    log = DXNLogState(X).apply(cid(10), release(0), frozenset({OWNER}), namespace)
    other = Version.parse("2.0.0")
    with pytest.raises(ConflictError, match="never released"):
        log.apply(
            cid(11), Yank(seq=1, prev=cid(10), time=21, dxn=X, version=other, reason="r"), frozenset({OWNER}), namespace
        )
    with pytest.raises(ConflictError, match="is not yanked"):
        log.apply(cid(11), Unyank(seq=1, prev=cid(10), time=21, dxn=X, version=V1), frozenset({OWNER}), namespace)
    log = log.apply(
        cid(11), Yank(seq=1, prev=cid(10), time=21, dxn=X, version=V1, reason="r"), frozenset({OWNER}), namespace
    )
    with pytest.raises(ConflictError, match="already yanked"):
        log.apply(
            cid(12), Yank(seq=2, prev=cid(11), time=22, dxn=X, version=V1, reason="r"), frozenset({OWNER}), namespace
        )


def test_release_needs_release_permission_in_the_namespace() -> None:
    namespace = claimed().apply(
        cid(1),
        NamespaceGrant(seq=1, prev=cid(0), time=11, namespace=NS, key=TEAM, permissions=frozenset({"yank"})),
        frozenset({OWNER}),
    )
    with pytest.raises(UnauthorizedError, match="'release'"):
        DXNLogState(X).apply(cid(10), release(0), frozenset({TEAM}), namespace)
    with pytest.raises(UnauthorizedError):
        DXNLogState(X).apply(cid(10), release(0), frozenset({STRANGER}), namespace)


def test_dxn_log_is_governed_by_its_own_namespace() -> None:
    other = NamespaceState("org.other")
    with pytest.raises(LogError, match="does not govern"):
        DXNLogState(X).apply(cid(10), release(0), frozenset({OWNER}), other)


def test_states_are_immutable_values() -> None:
    namespace = claimed()
    empty = DXNLogState(X)
    after = empty.apply(cid(10), release(0), frozenset({OWNER}), namespace)
    assert empty.released == {} and after.released != {}


def log_of(*steps: tuple[str, str]) -> list[Release | Yank | Unyank]:
    """A DXN log of X from (kind, version) steps, each entry chained to the one before."""
    entries: list[Release | Yank | Unyank] = []
    for seq, (kind, text) in enumerate(steps):
        prev, time, version = None if seq == 0 else cid(seq - 1), 10 + seq, Version.parse(text)
        if kind == "release":
            entries.append(Release(seq=seq, prev=prev, time=time, dxn=X, version=version, record=cid(100 + seq)))
        elif kind == "yank":
            entries.append(Yank(seq=seq, prev=prev, time=time, dxn=X, version=version, reason="broken"))
        else:
            entries.append(Unyank(seq=seq, prev=prev, time=time, dxn=X, version=version))
    return entries


def test_an_export_carries_the_log_through_its_versions_and_their_later_yanks() -> None:
    log = log_of(
        ("release", "1.0.0"),
        ("release", "1.1.0"),
        ("yank", "1.1.0"),
        ("release", "1.2.0"),
        ("release", "2.0.0"),
        ("unyank", "1.1.0"),
        ("release", "2.1.0"),
    )
    v = Version.parse
    assert exported_prefix(log, [v("1.0.0")]) == 1
    # 1.1.0 brings 1.0.0, and its yank; its unyank later brings 1.2.0 and 2.0.0 too
    assert exported_prefix(log, [v("1.1.0")]) == 6
    assert exported_prefix(log, [v("1.2.0")]) == 6  # 1.1.0 comes along, so its unyank does
    assert exported_prefix(log, [v("2.1.0")]) == 7
    assert exported_prefix(log, [v("1.0.0"), v("1.0.0")]) == 1
    assert exported_prefix(log, []) == 0
    with pytest.raises(LogError, match=r"version 3\.0\.0 is not released"):
        exported_prefix(log, [v("3.0.0")])


def test_a_later_yank_of_an_earlier_version_comes_with_the_export_of_a_later_one() -> None:
    log = log_of(("release", "1.0.0"), ("release", "1.1.0"), ("release", "1.2.0"), ("yank", "1.0.0"))
    assert exported_prefix(log, [Version.parse("1.1.0")]) == 4
    assert exported_prefix(log, [Version.parse("1.2.0")]) == 4
