"""The orchestrator's SQLite state: functions and invocation records, persisted across reopening."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from dmg.core.cid import CID, DAG_CBOR
from dmg.core.errors import ConflictError, NotFoundError, StoreError
from orchestrator.lifecycle import FunctionState
from orchestrator.state import DATABASE_NAME, FunctionRow, InvocationRow, InvocationStatus, StateStore

A, B = "com.example/function/a", "com.example/function/b"


def function_row(dxn: str, state: FunctionState = FunctionState.INSTALLED) -> FunctionRow:
    block = dxn.encode()
    return FunctionRow(dxn, "1.0.0", CID.of(block, DAG_CBOR), block, state, {"storage": None}, True, 1, 1)


def invocation(dxn: str, number: int, status: InvocationStatus = InvocationStatus.SUCCEEDED) -> InvocationRow:
    return InvocationRow(f"{dxn}#{number}", dxn, "run", status, {"n": number}, created_at=number, output={"n": number})


@pytest.fixture
async def state(tmp_path: Path) -> AsyncIterator[StateStore]:
    opened = await StateStore.open(tmp_path, keep=3)
    yield opened
    await opened.close()


async def test_functions_persist_with_their_state(tmp_path: Path) -> None:
    state = await StateStore.open(tmp_path)
    await state.add_functions([function_row(B), function_row(A)])
    await state.set_state(A, FunctionState.PAUSED, 7)
    await state.close()
    reopened = await StateStore.open(tmp_path)
    try:
        rows = await reopened.functions()
        assert [(row.dxn, row.state) for row in rows] == [(A, FunctionState.PAUSED), (B, FunctionState.INSTALLED)]
        assert rows[0].updated_at == 7 and rows[0].record == function_row(A).record
        assert rows[0].granted == {"storage": None} and rows[0].record_block == A.encode()
        assert await reopened.function("com.example/function/none") is None
    finally:
        await reopened.close()


async def test_adding_is_all_or_nothing(state: StateStore) -> None:
    await state.add_functions([function_row(A)])
    with pytest.raises(ConflictError, match="installed already"):
        await state.add_functions([function_row(B), function_row(A)])
    assert [row.dxn for row in await state.functions()] == [A]


async def test_invocation_records_are_ordered_pruned_and_go_with_their_function(state: StateStore) -> None:
    await state.add_functions([function_row(A), function_row(B)])
    queued = await state.add_invocation(invocation(A, 0, InvocationStatus.QUEUED))
    for number in range(1, 6):
        await state.add_invocation(invocation(A, number))
    await state.add_invocation(invocation(B, 9))
    records = await state.invocations(A)
    assert [record.id for record in records] == [queued.id, f"{A}#3", f"{A}#4", f"{A}#5"]
    assert records[1].output == {"n": 3} and records[1].input == {"n": 3} and records[1].seq > queued.seq
    assert [record.id for record in await state.invocations(A, after=records[1].seq, limit=1)] == [f"{A}#4"]
    assert (await state.invocation(f"{A}#5")).status is InvocationStatus.SUCCEEDED  # type: ignore[union-attr]
    await state.remove_function(A)
    assert await state.invocations(A) == [] and await state.invocation(queued.id) is None
    assert len(await state.invocations(B)) == 1


async def test_queued_invocations_are_delivered_or_ended(state: StateStore) -> None:
    await state.add_functions([function_row(A), function_row(B)])
    first = await state.add_invocation(invocation(A, 1, InvocationStatus.QUEUED))
    await state.add_invocation(invocation(A, 2, InvocationStatus.QUEUED))
    await state.add_invocation(invocation(B, 3, InvocationStatus.QUEUED))
    assert await state.count_queued(A) == 2 and await state.count_queued() == 3
    await state.finish_invocation(replace(first, status=InvocationStatus.RUNNING))
    assert [row.id for row in await state.with_status(InvocationStatus.QUEUED, A)] == [f"{A}#2"]
    assert [row.id for row in await state.with_status(InvocationStatus.RUNNING)] == [first.id]
    done = replace(first, status=InvocationStatus.FAILED, error={"code": "FUNCTION_FAILED"}, logs="boom", finished_at=5)
    await state.finish_invocation(done)
    stored = await state.invocation(first.id)
    assert stored is not None and stored.error == {"code": "FUNCTION_FAILED"} and stored.logs == "boom"
    error = {"code": "NOT_RUNNING", "message": "stopped"}
    assert await state.end_unfinished(InvocationStatus.QUEUED, error, 9, A) == 1
    assert await state.count_queued(A) == 0 and await state.count_queued(B) == 1
    cancelled = await state.invocation(f"{A}#2")
    assert cancelled is not None and cancelled.status is InvocationStatus.CANCELLED and cancelled.finished_at == 9


async def test_a_record_of_a_removed_function_is_refused(state: StateStore) -> None:
    with pytest.raises(NotFoundError, match="is not installed"):
        await state.add_invocation(invocation(A, 1))


async def test_bad_state_directories_and_versions(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="at least one invocation record"):
        await StateStore.open(tmp_path, keep=0)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StoreError, match="cannot create data directory"):
        await StateStore.open(tmp_path / "file" / "sub")
    await (await StateStore.open(tmp_path / "old")).close()
    with sqlite3.connect(tmp_path / "old" / DATABASE_NAME) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StoreError, match="has schema version 99"):
        await StateStore.open(tmp_path / "old")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / DATABASE_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        await StateStore.open(tmp_path / "junk")
