"""SQLite for the named queries: a few persistent connections, each with a thread of its own.

A statement that crosses to a worker thread and back pays two GIL hand-overs and a wake-up
of the event loop: measured under load, ~200 µs of CPU per statement, against ~20 µs for an
indexed read of one item in SQLite itself. So:

- point reads (one item's rows, or a page of at most 100, through an index: `Sql(point=True)`)
  run on the event loop's thread, on a connection of its own. They take no longer than
  encoding the answer does, and they never wait: that connection's busy timeout is zero,
  and a read that would wait (SQLITE_BUSY, rare in WAL mode) goes to a thread instead.
  Measured with wrk on an item's detail: 870 -> 1,530 requests/s, 940 -> 540 µs of CPU each.
  Unbounded reads (a whole list, a search) and every write go to the threads;
- their connections are opened once (WAL, `foreign_keys`, `synchronous=NORMAL`, busy
  timeout), one thread each; reads run concurrently on up to `size` of them (WAL readers
  never block the writer);
- writes queue on an asyncio lock, in order, instead of sleeping in SQLite's busy handler
  (under 200 position saves a second that capped out near 80 a second with multi-second
  tails). A write of several statements (`write`) is one crossing: BEGIN IMMEDIATE, the
  statements, COMMIT. A transaction with reads in between (`transaction`) keeps its
  connection and the lock until it ends. IMMEDIATE: another process on the same file waits
  for the busy timeout instead of failing to upgrade a read lock.

Piccolo's own engine (migrations at start, and tests' fixtures) opens its connections apart
from these; no runtime write goes through it.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

from piccolo.columns import Timestamptz

from mediahub.db.tables import TABLES

T = TypeVar("T")
Row = dict[str, Any]
Statement = tuple[str, Sequence[Any]]

# Values come back as SQLite stores them, without Piccolo's per-value converters (a Python
# call for every INTEGER, BOOLEAN and TIMESTAMPTZ value: a third of a list's cost). Booleans
# are 0/1, which every use reads as truth; timestamps are turned into UTC datetimes here, as
# PostgreSQL gives them. (Writing, Piccolo's adapter stores datetimes in UTC ISO form.)
TIMESTAMPS = frozenset(
    column._meta.db_column_name for table in TABLES for column in table._meta.columns
    if isinstance(column, Timestamptz)
)  # fmt: skip


class _Slot:
    """One connection and the one thread that uses it."""

    def __init__(self, path: str, busy_timeout: float, *, threaded: bool = True) -> None:
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="mediahub-sqlite") if threaded else None
        self.connection: sqlite3.Connection | None = None
        self._path = path
        self._busy_timeout = busy_timeout

    def open(self) -> None:
        connection = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
        self.connection = connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class SQLitePool:
    def __init__(self, path: str, *, busy_timeout: float, size: int = 4) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._idle: list[_Slot] = []
        self._slots = asyncio.Semaphore(size)
        self._writer = asyncio.Lock()
        self._open: list[_Slot] = []
        self._loop_slot: _Slot | None = None  # point reads, on the event loop's thread
        # The transaction this task is in: its statements run on its connection.
        self._current: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar("sqlite_transaction", default=None)

    async def fetch(self, sql: str, args: Sequence[Any], *, write: bool, point: bool = False) -> list[Row]:
        """One statement; a write outside a transaction takes the writer lock."""
        slot = self._current.get()
        if slot is not None:
            return await self._run(slot, _fetch, sql, args)
        if point and not write:
            try:
                return _fetch(self._on_loop(), sql, args)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise  # else it would have had to wait: let a thread do that
        if not write:
            async with self._lease() as slot:
                return await self._run(slot, _fetch, sql, args)
        async with self._writer, self._lease() as slot:
            return await self._run(slot, _fetch, sql, args)

    async def write(self, statements: Sequence[Statement]) -> None:
        """Several writes, committed together, in one crossing."""
        slot = self._current.get()
        if slot is not None:  # already inside a transaction: it commits them
            await self._run(slot, _execute_all, statements)
            return
        async with self._writer, self._lease() as slot:
            await self._run(slot, _commit_all, statements)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Statements of this task until the block ends commit together (nested: joins)."""
        if self._current.get() is not None:
            yield
            return
        async with self._writer, self._lease() as slot:
            await self._run(slot, _fetch, "BEGIN IMMEDIATE", ())
            token = self._current.set(slot)
            try:
                yield
            except BaseException:
                await self._run(slot, _fetch, "ROLLBACK", ())
                raise
            else:
                await self._run(slot, _fetch, "COMMIT", ())
            finally:
                self._current.reset(token)

    async def close(self) -> None:
        if self._loop_slot is not None:
            self._loop_slot.close()
            self._loop_slot = None
        for slot in self._open:
            assert slot.thread is not None
            await asyncio.get_running_loop().run_in_executor(slot.thread, slot.close)
            slot.thread.shutdown(wait=False)
        self._open.clear()
        self._idle.clear()

    @asynccontextmanager
    async def _lease(self) -> AsyncIterator[_Slot]:
        async with self._slots:
            slot = self._idle.pop() if self._idle else await self._new_slot()
            try:
                yield slot
            finally:
                self._idle.append(slot)

    def _on_loop(self) -> sqlite3.Connection:
        if self._loop_slot is None:
            slot = _Slot(self._path, 0.0, threaded=False)
            slot.open()
            self._loop_slot = slot
        assert self._loop_slot.connection is not None
        return self._loop_slot.connection

    async def _new_slot(self) -> _Slot:
        slot = _Slot(self._path, self._busy_timeout)
        await asyncio.get_running_loop().run_in_executor(slot.thread, slot.open)
        self._open.append(slot)
        return slot

    async def _run(self, slot: _Slot, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(slot.thread, work, slot.connection, *args)  # type: ignore[arg-type]


def _fetch(connection: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[Row]:
    cursor = connection.execute(sql, args)
    if cursor.description is None:
        return []
    columns = [column[0] for column in cursor.description]
    rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    for column in TIMESTAMPS.intersection(columns):
        for row in rows:
            if (value := row[column]) is not None:
                row[column] = datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return rows


def _execute_all(connection: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    for sql, args in statements:
        connection.execute(sql, args)


def _commit_all(connection: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        _execute_all(connection, statements)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
