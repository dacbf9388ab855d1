"""How the persistence modules reach the database: named SQL, compiled once per dialect.

Piccolo gives us the schema, migrations and the asyncpg pool; its query builder costs
0.1-0.3 ms of Python per select, which is most of an API request's budget. So the query
modules (`mediahub.db.queries`) write SQL with `{}` placeholders, `Sql` turns each into `?`
(SQLite) or `$n` (PostgreSQL) once, and `Database` runs it: on SQLite through our pool of
connections (`sqlite.py`), on PostgreSQL on the asyncpg pool or the current transaction's
connection. Rows are dicts.

`Database.statements` counts every statement run, so a test can hold a route to its
statement budget; `Database.writes` counts the ones that change something, so a cache of a
read (the whole library list) knows when it is stale.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from mediahub.db.sqlite import SQLitePool
from mediahub.db.tables import TABLES

Row = dict[str, Any]
TABLES_BY_NAME = {table._meta.tablename: table for table in TABLES}


class Sql:
    """One statement written with `{}` placeholders, in both dialects' forms.

    `point=True` marks a read of one item's rows (or a page of at most 100) through an index:
    on SQLite it runs on the event loop's own thread (see `sqlite.py` for why and when not).
    """

    __slots__ = ("text", "sqlite", "postgres", "writes", "point")

    def __init__(self, text: str, *, point: bool = False) -> None:
        self.text = " ".join(text.split())
        self.point = point
        self.writes = not self.text.upper().startswith(("SELECT", "WITH"))
        self.sqlite = self.text.replace("{}", "?")
        parts = self.text.split("{}")
        self.postgres = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))

    def __repr__(self) -> str:
        return f"Sql({self.text[:60]!r}...)"


class Database:
    """What a Hub's services query. `async with db.transaction():` groups statements;
    `db.write(...)` commits a few writes at once (one trip to SQLite's thread)."""

    def __init__(self, engine: Engine, sqlite: SQLitePool | None) -> None:
        self.engine = engine  # Piccolo's: the schema, migrations, tests' table access
        self.statements = 0
        self.writes = 0
        self._sqlite = sqlite
        if sqlite is None and not isinstance(engine, PostgresEngine):
            raise TypeError("a SQLite database needs its connection pool")

    @property
    def is_postgres(self) -> bool:
        return self._sqlite is None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Statements inside commit together (on SQLite, in turn with every other write)."""
        try:
            if self._sqlite is not None:
                async with self._sqlite.transaction():
                    yield
            else:
                async with self.engine.transaction():
                    yield
        finally:
            self.writes += 1  # committed (or rolled back) only now

    async def fetch(self, sql: Sql, *args: Any) -> list[Row]:
        self.statements += 1
        try:
            if self._sqlite is not None:
                return await self._sqlite.fetch(sql.sqlite, args, write=sql.writes, point=sql.point)
            return await self._fetch_postgres(sql.postgres, args)
        finally:
            self.writes += sql.writes  # after the change: a reader that saw the old count re-reads

    async def one(self, sql: Sql, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def value(self, sql: Sql, *args: Any) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = await self.one(sql, *args)
        return next(iter(row.values())) if row else None

    async def execute(self, sql: Sql, *args: Any) -> None:
        await self.fetch(sql, *args)

    async def write(self, *statements: tuple[Sql, Sequence[Any]]) -> None:
        """Several writes committed together (inside a transaction: part of it)."""
        self.statements += len(statements)
        try:
            if self._sqlite is not None:
                await self._sqlite.write([(sql.sqlite, args) for sql, args in statements])
            else:
                async with self.engine.transaction():
                    for sql, args in statements:
                        await self._fetch_postgres(sql.postgres, args)
        finally:
            self.writes += 1

    async def update(self, table: str, where: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Set `changes` ({column: value}) on the rows of `table` matching `where` ({column: value})."""
        if changes:
            sql = update_sql(table, tuple(changes), tuple(where))
            await self.execute(sql, *changes.values(), *where.values())

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()

    async def _fetch_postgres(self, text: str, args: Sequence[Any]) -> list[Row]:
        engine = self.engine
        assert isinstance(engine, PostgresEngine)
        transaction = engine.current_transaction.get()
        if transaction is not None:
            records = await transaction.connection.fetch(text, *args)
        else:
            assert engine.pool is not None
            async with engine.pool.acquire() as connection:
                records = await connection.fetch(text, *args)
        return [dict(record) for record in records]


@functools.lru_cache(maxsize=256)
def update_sql(table: str, columns: tuple[str, ...], keys: tuple[str, ...]) -> Sql:
    """`UPDATE table SET columns... WHERE keys...` for columns named by our own code (never by
    a request): each name is checked against the table's schema first."""
    known = {column._meta.db_column_name for column in TABLES_BY_NAME[table]._meta.columns}
    if unknown := (set(columns) | set(keys)) - known:
        raise ValueError(f"{table} has no column {sorted(unknown)}")
    assignments = ", ".join(f"{column} = {{}}" for column in columns)
    conditions = " AND ".join(f"{key} = {{}}" for key in keys)
    return Sql(f"UPDATE {table} SET {assignments} WHERE {conditions}")


def placeholders(count: int) -> str:
    """`{}, {}, ...` for an IN list of `count` values (at least one)."""
    return ", ".join(["{}"] * max(1, count))
