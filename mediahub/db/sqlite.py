"""A Piccolo SQLite engine with a small pool of persistent connections and one writer at a time.

Piccolo's `SQLiteEngine` opens a fresh aiosqlite connection (and so a fresh thread) for every
query, and leaves concurrent writers to SQLite's busy handler, which sleeps with a growing
back-off. Under 200 position writes a second that capped out near 80 requests/s with
multi-second tail latencies. Here:

- connections are opened once (WAL, `foreign_keys`, `synchronous=NORMAL`, busy timeout) and
  reused; a query is one hop to the connection's thread (`execute_fetchall`);
- reads run concurrently on up to `size` connections (WAL readers never block the writer);
- writes and transactions queue on an asyncio lock, in order, instead of sleeping in SQLite's
  busy handler. Transactions begin IMMEDIATE, so another process (a notebook on the same file)
  waits for the busy timeout instead of failing to upgrade a read lock.

A transaction must run its queries in its own task context (Piccolo's contextvar does that);
a write issued from another task while a transaction waits on it would wait for the lock.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

_PRAGMAS = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"


class PooledSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, *, busy_timeout: float, size: int = 4) -> None:
        super().__init__(path=path, timeout=busy_timeout)
        self._idle: list[aiosqlite.Connection] = []
        self._slots = asyncio.Semaphore(size)
        self._writer = asyncio.Lock()
        self._closed = False

    async def _lease(self) -> aiosqlite.Connection:
        await self._slots.acquire()
        try:
            if self._idle:
                return self._idle.pop()
            connection = await aiosqlite.connect(**self.connection_kwargs)
            connection.row_factory = dict_factory
            await connection.executescript(_PRAGMAS)
            return connection
        except BaseException:
            self._slots.release()
            raise

    async def _give_back(self, connection: aiosqlite.Connection) -> None:
        try:
            if connection.in_transaction or self._closed:  # an interrupted transaction: never reuse
                await connection.close()
            else:
                self._idle.append(connection)
        finally:
            self._slots.release()

    async def _run(self, query: str, args: list[Any] | None) -> list[dict[str, Any]]:
        """One statement outside a transaction; anything but a SELECT takes the write lock."""
        is_read = query.lstrip()[:6].upper() == "SELECT"
        if not is_read:
            await self._writer.acquire()
        try:
            connection = await self._lease()
            try:
                return list(await connection.execute_fetchall(query, args or []))
            finally:
                await self._give_back(connection)
        finally:
            if not is_read:
                self._writer.release()

    # Piccolo's hooks: queries outside / inside a transaction.

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> list[dict[str, Any]]:
        return await self._run(query, args)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> list[dict[str, Any]]:
        return list(await connection.execute_fetchall(query, args or []))

    def transaction(
        self, transaction_type: TransactionType = TransactionType.immediate, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _PooledTransaction(self, TransactionType.immediate, allow_nested)

    async def close(self) -> None:
        """Close the idle connections (their threads end with them); leased ones close on return."""
        self._closed = True
        while self._idle:
            await self._idle.pop().close()


class _PooledTransaction(SQLiteTransaction):
    """Holds the write lock and a pooled connection from BEGIN to COMMIT/ROLLBACK."""

    engine: PooledSQLiteEngine

    async def get_connection(self) -> _Lease:
        await self.engine._writer.acquire()
        try:
            return _Lease(self.engine, await self.engine._lease())
        except BaseException:
            self.engine._writer.release()
            raise


class _Lease:
    """What a transaction holds: `execute`/`execute_fetchall` on the pooled connection, and a
    `close` that returns the connection and the write lock instead of closing anything."""

    def __init__(self, engine: PooledSQLiteEngine, connection: aiosqlite.Connection) -> None:
        self._engine = engine
        self._connection = connection

    async def execute(self, sql: str) -> None:
        await self._connection.execute(sql)

    async def execute_fetchall(self, sql: str, args: list[Any]) -> Any:
        return await self._connection.execute_fetchall(sql, args)

    async def close(self) -> None:
        try:
            await self._engine._give_back(self._connection)
        finally:
            self._engine._writer.release()
