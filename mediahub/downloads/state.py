"""The state of every torrent, kept in memory and written to the database when it changes.

The engine reports each running torrent about once a second. Reading the torrent's row back
every time to decide what changed cost 5 + N statements a tick, under the writer lock that
position saves wait on. Here the last written values live in memory: a tick writes only the
columns that changed (one statement, plus one per episode file whose progress moved), and
`TorrentChanged` goes out when the status or progress changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mediahub.db.database import Database
from mediahub.db.queries import torrents as queries
from mediahub.events import EventBus, TorrentChanged

# What `record` keeps of a torrent: the columns of its row that change while it runs.
COLUMNS = ("magnet_link", "name", "status", "progress", "total_bytes", "downloaded_bytes", "error")


@dataclass
class TorrentState:
    infohash: str
    values: dict[str, Any]
    files: dict[int, float] = field(default_factory=dict)  # file index -> progress written

    @property
    def status(self) -> str:
        return self.values["status"]


class TorrentStates:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus
        self._states: dict[str, TorrentState] = {}

    async def load(self) -> list[TorrentState]:
        """Read every torrent's row once, at start."""
        for row in await queries.all_torrents(self._db):
            self._states[row["infohash"]] = TorrentState(row["infohash"], {column: row[column] for column in COLUMNS})
        return list(self._states.values())

    def get(self, infohash: str) -> TorrentState | None:
        return self._states.get(infohash)

    def status(self, infohash: str) -> str | None:
        state = self._states.get(infohash)
        return state.status if state else None

    def known(self, infohash: str, magnet_link: str, name: str | None) -> TorrentState:
        """The state of a torrent whose row an add just wrote (or that another item holds)."""
        state = self._states.get(infohash)
        if state is None:
            state = self._states[infohash] = TorrentState(
                infohash,
                {"magnet_link": magnet_link, "name": name, "status": "added", "progress": 0.0,
                 "total_bytes": None, "downloaded_bytes": 0, "error": None}  # fmt: skip
            )
        return state

    def forget(self, infohash: str) -> None:
        self._states.pop(infohash, None)

    async def set(self, infohash: str, *, announce: bool = False, **values: Any) -> None:
        """Write the values that differ from what the row holds; announce a changed status or
        progress (or any change, with `announce`: a profile's own pause changed its view)."""
        state = self._states.get(infohash)
        if state is None:
            return  # released meanwhile
        changes = {k: v for k, v in values.items() if k not in state.values or state.values[k] != v}
        if changes:
            await queries.update(self._db, infohash, changes)
            state.values.update((k, v) for k, v in changes.items() if k in COLUMNS)
        if announce or {"status", "progress"} & changes.keys():
            self._bus.publish(TorrentChanged(infohash=infohash, status=state.status, progress=state.values["progress"]))

    async def files(self, infohash: str, progress: dict[int, float]) -> None:
        """Per-file progress of the torrent, written for the files whose value moved."""
        state = self._states.get(infohash)
        if state is None:
            return
        moved = {index: value for index, value in progress.items() if state.files.get(index) != value}
        if moved:
            await queries.episode_progress(self._db, infohash, moved)
            state.files.update(moved)
