"""The persistence boundary: every statement mediahub runs, as named async functions.

Services call these and never touch tables or SQL themselves. Each module holds the queries of
one area (`media`, `positions`, `profiles`, `torrents`, `files`, `metadata`); `status` holds
the one rule for an item's status and progress, as SQL the others build on. Every query takes
the `Database` first and runs on SQLite and PostgreSQL alike (tests/test_queries.py).
"""
