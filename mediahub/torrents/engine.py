"""The BitTorrent engine: one libtorrent session, its alert pump, resume data and readers.

libtorrent runs its own threads and reports through alerts. One asyncio task waits for
alerts in a dedicated worker thread and turns them into cached state (`status()`,
`files()`), piece wake-ups for readers and events for subscribers, so the event loop never
blocks on libtorrent. Blocking libtorrent calls (`add_torrent`, `status`, `have_piece`,
`torrent_file`) go to worker threads; the rest only post messages to its network thread.

File selection: a magnet is added in libtorrent's *upload mode*, so once its metadata
arrives nothing is requested until the caller picks files with `set_file_priorities`
(which leaves upload mode). Unwanted files thus never get a byte, and the torrent does not
report a premature "finished" with nothing selected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import libtorrent as lt
import msgspec

from mediahub.ids import utcnow
from mediahub.settings import Settings
from mediahub.torrents.errors import MetadataPending, TorrentNotFound, TorrentStartFailed
from mediahub.torrents.events import Fanout, EventStream
from mediahub.torrents.magnet import Magnet
from mediahub.torrents.models import (
    MetadataReceived,
    PieceFinished,
    StateChanged,
    StatusUpdated,
    TorrentFailed,
    TorrentFile,
    TorrentFinished,
    TorrentRemoved,
    TorrentStatus,
    initial_status,
    state_name,
    status_from_lt,
)
from mediahub.torrents.paths import join_inside, safe_relative_path, unique_paths
from mediahub.torrents.pieces import PieceTracker
from mediahub.torrents.policy import apply_policy, ip_filter
from mediahub.torrents.reader import DEFAULT_READAHEAD, FileReader
from mediahub.torrents.resume import ResumeStore

log = logging.getLogger(__name__)

ALERT_MASK = (
    lt.alert_category.status | lt.alert_category.storage | lt.alert_category.error | lt.alert_category.piece_progress
)
STATUS_INTERVAL = 1.0
RESUME_INTERVAL = 5.0
_SAVE_FLAGS = lt.save_resume_flags_t.flush_disk_cache | lt.save_resume_flags_t.save_info_dict
_ALERT_WAIT_MS = 250
_CLOSE_TIMEOUT = 15.0
_REMOVE_TIMEOUT = 30.0
# libtorrent answers an add, or a blocking call, within milliseconds; these bound the wait
# when it does not (a wedged session), so no request, start or stop can hang on it.
_ADD_TIMEOUT = 30.0
_CALL_TIMEOUT = 30.0


def session_settings(settings: Settings) -> dict[str, Any]:
    """libtorrent settings_pack for our Settings."""
    return {
        "listen_interfaces": settings.torrent_listen,
        "enable_dht": settings.torrent_dht,
        "enable_lsd": settings.torrent_lsd,
        "enable_upnp": settings.torrent_upnp,
        "enable_natpmp": settings.torrent_upnp,
        "alert_mask": ALERT_MASK,
        "alert_queue_size": 10_000,
        # Keep seeds connected while a torrent waits in upload mode for its file selection.
        "close_redundant_connections": False,
        # Requests in flight per peer, in seconds of transfer (libtorrent's default is 3).
        # A seek's pieces queue behind them at the peer, so this bounds seek latency.
        "request_queue_time": 1,
        # Redial a dropped peer after seconds, not libtorrent's minute: after a pause/resume
        # or a seeder blip a small swarm would otherwise sit idle.
        "min_reconnect_time": 2,
        "stop_tracker_timeout": 2,
        # We dial peers over TCP; peers may still reach us over uTP. uTP's LEDBAT congestion
        # control yields to any other traffic (a background transport, the opposite of "play
        # now"), and a uTP connection the other side has timed out stays open on ours until
        # peer_timeout (2 min). Measured: 20 torrents from one seeder, 12 stalled at 0 bytes
        # over uTP, none over TCP; seek-to-60% first byte, median of 9: 491 ms -> 145 ms.
        "enable_outgoing_utp": False,
        # The address policy's second layer (policy.py), with the IP filter set in start().
        "ssrf_mitigation": True,
        "apply_ip_filter_to_trackers": True,
        "user_agent": "mediahub libtorrent/" + lt.__version__,
    }


@dataclass(eq=False)
class _Torrent:
    infohash: str
    handle: lt.torrent_handle
    save_path: Path
    name: str
    status: TorrentStatus
    peers: list[tuple[str, int]] = field(default_factory=list)  # the magnet's x.pe peers
    metadata: asyncio.Event = field(default_factory=asyncio.Event)
    files: tuple[TorrentFile, ...] | None = None
    num_files: int = 0
    kept_priorities: dict[int, int] = field(default_factory=dict)  # entries we do not expose
    wanted_bytes: int = 0
    pieces: PieceTracker | None = None
    unsaved_pieces: int = 0
    dirty: bool = False
    loading_metadata: bool = False
    finish_pending: bool = False
    saves_pending: int = 0
    removed: bool = False


class TorrentEngine:
    """Owns the libtorrent session. `async with TorrentEngine(settings) as engine: ...`"""

    def __init__(self, settings: Settings, *, resume_interval: float = RESUME_INTERVAL) -> None:
        self.settings = settings
        self._resume = ResumeStore(settings.state_dir / "resume")
        self._resume_interval = resume_interval
        self._session: lt.session | None = None
        self._torrents: dict[str, _Torrent] = {}
        self._bus = Fanout()
        self._pump_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._add_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._saved = asyncio.Event()
        self._adding: dict[str, asyncio.Future[None]] = {}
        self._removals: dict[str, tuple[asyncio.Future[None], bool]] = {}
        self._alert_thread = ThreadPoolExecutor(1, thread_name_prefix="mediahub-alerts")
        self._listen_port = 0
        self._closing = False
        self._handlers = {
            lt.add_torrent_alert: self._on_added,
            lt.metadata_received_alert: self._on_metadata_received,
            lt.torrent_checked_alert: self._on_checked,
            lt.piece_finished_alert: self._on_piece_finished,
            lt.read_piece_alert: self._on_read_piece,
            lt.torrent_finished_alert: self._on_finished,
            lt.cache_flushed_alert: self._on_cache_flushed,
            lt.state_changed_alert: self._on_state_changed,
            lt.state_update_alert: self._on_state_update,
            lt.torrent_error_alert: self._on_error,
            lt.file_error_alert: self._on_error,
            lt.save_resume_data_alert: self._on_resume_data,
            lt.save_resume_data_failed_alert: self._on_resume_data_failed,
            lt.torrent_removed_alert: self._on_removed,
            lt.torrent_deleted_alert: self._on_removed,
            lt.torrent_delete_failed_alert: self._on_removed,
            lt.file_rename_failed_alert: self._on_rename_failed,
            lt.fastresume_rejected_alert: self._on_resume_rejected,
            lt.listen_succeeded_alert: self._on_listening,
            lt.alerts_dropped_alert: self._on_alerts_dropped,
        }

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._session is not None:
            return
        rules = await ip_filter(self.settings.magnet_hosts)
        self._session = await _blocking(lt.session, session_settings(self.settings))
        self._session.set_ip_filter(rules)
        self._pump_task = asyncio.create_task(self._pump(), name="mediahub-torrent-alerts")

    async def close(self) -> None:
        """Save resume data for every torrent, then shut the session down."""
        session = self._session
        if session is None or self._closing:
            return
        session.pause()  # freeze transfers so the saved state is the final one
        for torrent in self._torrents.values():
            self._request_save(torrent)
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._wait_for_saves()
        except TimeoutError:
            log.warning("Gave up waiting for resume data after %.0f s", _CLOSE_TIMEOUT)
        self._closing = True
        if self._pump_task is not None:
            await self._pump_task
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for torrent in self._torrents.values():
            self._forget(torrent)
        self._torrents.clear()
        self._bus.close()
        self._session = None
        holder = [session]
        del session
        try:
            await _blocking(holder.clear)  # the session destructor joins libtorrent's threads
        except TimeoutError:
            log.warning("libtorrent did not shut down within %.0f s", _CALL_TIMEOUT)
        self._alert_thread.shutdown(wait=False)

    async def __aenter__(self) -> TorrentEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def listen_port(self) -> int:
        """The TCP port libtorrent listens on (0 until it listens)."""
        return self._listen_port

    # -- torrents ------------------------------------------------------------------------

    async def add(self, magnet: Magnet, save_path: Path, *, paused: bool = False) -> TorrentStatus:
        """Start (or keep) downloading `magnet` into `save_path`. Idempotent per info-hash;
        resumes from saved resume data when there is some, so verified pieces are kept."""
        session = self._require_session()
        if (existing := self._torrents.get(magnet.infohash)) is not None:
            return existing.status
        resume = await _blocking(self._resume.load, magnet.infohash)
        params = _add_params(magnet, save_path, resume, paused)
        await apply_policy(params, self.settings.magnet_hosts, magnet.infohash)  # name lookups: outside the lock
        await _blocking(lambda: save_path.mkdir(parents=True, exist_ok=True))
        async with self._add_lock:
            if (existing := self._torrents.get(magnet.infohash)) is not None:
                return existing.status
            name = magnet.display_name or magnet.infohash
            torrent = _Torrent(magnet.infohash, lt.torrent_handle(), save_path, name, initial_status(magnet.infohash, name))
            torrent.peers = list(params.peers)
            # Registered before libtorrent knows the torrent: on loopback its metadata can
            # arrive within a millisecond, and an alert for an unknown torrent would be lost.
            self._torrents[torrent.infohash] = torrent
            self._adding[torrent.infohash] = added = asyncio.get_running_loop().create_future()
            session.async_add_torrent(params)
            try:
                async with asyncio.timeout(_ADD_TIMEOUT):
                    await added
            except BaseException as exc:
                self._torrents.pop(torrent.infohash, None)
                if isinstance(exc, TimeoutError):
                    raise TorrentStartFailed(f"libtorrent did not start the torrent within {_ADD_TIMEOUT:.0f} s.") from None
                raise
            finally:
                self._adding.pop(torrent.infohash, None)
        if params.ti is not None:  # restored with its metadata: no metadata alert will come
            await self._load_metadata(torrent)
        st = await _blocking(torrent.handle.status, 0)
        _set_status(torrent, status_from_lt(torrent.infohash, torrent.name, st, torrent.wanted_bytes))
        return torrent.status

    async def remove(self, infohash: str, *, delete_files: bool) -> None:
        """Stop the torrent and forget its resume data; with `delete_files` also delete its
        downloaded files and partial data."""
        torrent = self._torrents.pop(infohash, None)
        if torrent is None:
            await _blocking(self._resume.delete, infohash)
            return
        self._forget(torrent)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._removals[infohash] = (done, delete_files)
        flags = lt.options_t.delete_files if delete_files else 0
        self._require_session().remove_torrent(torrent.handle, flags)
        try:
            async with asyncio.timeout(_REMOVE_TIMEOUT):
                await done
        except TimeoutError:
            log.warning("libtorrent did not confirm removing %s", infohash)
        finally:
            self._removals.pop(infohash, None)
        async with self._write_lock:
            await _blocking(self._resume.delete, infohash)
        self._bus.publish(TorrentRemoved(infohash))

    def pause(self, infohash: str) -> None:
        torrent = self._get(infohash)
        torrent.handle.pause()
        _set_status(torrent, msgspec.structs.replace(torrent.status, paused=True, download_rate=0, upload_rate=0))
        self._request_save(torrent)

    def resume(self, infohash: str) -> None:
        """Resume a paused torrent; also clears an error so the download is retried."""
        torrent = self._get(infohash)
        torrent.handle.clear_error()
        torrent.handle.resume()
        # Pausing dropped every peer; libtorrent would wait a minute before redialling
        # the magnet's own peers, which for a private swarm are all there is.
        for peer in torrent.peers:
            torrent.handle.connect_peer(peer)
        _set_status(torrent, msgspec.structs.replace(torrent.status, paused=False, error=None))
        self._request_save(torrent)

    def status(self, infohash: str) -> TorrentStatus | None:
        """Latest status (refreshed about once a second), None for an unknown torrent."""
        torrent = self._torrents.get(infohash)
        return torrent.status if torrent else None

    def torrents(self) -> list[TorrentStatus]:
        return [torrent.status for torrent in self._torrents.values()]

    def files(self, infohash: str) -> tuple[TorrentFile, ...] | None:
        """The torrent's files with sanitised paths, None while metadata is pending."""
        return self._get(infohash).files

    async def wait_metadata(self, infohash: str, timeout: float | None) -> tuple[TorrentFile, ...]:
        """The file list once metadata is known; TimeoutError after `timeout` seconds."""
        torrent = self._get(infohash)
        async with asyncio.timeout(timeout):
            await torrent.metadata.wait()
        if torrent.removed or torrent.files is None:
            raise TorrentNotFound("The torrent was removed.")
        return torrent.files

    def set_file_priorities(self, infohash: str, priorities: Mapping[int, int]) -> None:
        """Choose what to download: {file index: priority 1-7 (4 normal, 7 top)}.
        Files not named get 0 and are never downloaded. Starts the transfer."""
        torrent = self._get(infohash)
        files = self._require_files(torrent)
        known = {file.index for file in files}
        if unknown := set(priorities) - known:
            raise ValueError(f"no such file index in this torrent: {sorted(unknown)}")
        if any(not 0 <= prio <= 7 for prio in priorities.values()):
            raise ValueError("file priorities go from 0 (skip) to 7 (top)")
        chosen = {**priorities, **torrent.kept_priorities}
        torrent.handle.prioritize_files([chosen.get(i, 0) for i in range(torrent.num_files)])
        torrent.wanted_bytes = sum(file.size for file in files if priorities.get(file.index, 0) > 0)
        torrent.handle.unset_flags(lt.torrent_flags.upload_mode)
        self._request_save(torrent)

    def file_progress(self, infohash: str) -> dict[int, float]:
        """Per file index, the percentage of its pieces that are verified (0-100)."""
        torrent = self._get(infohash)
        files, pieces = self._require_files(torrent), torrent.pieces
        assert pieces is not None
        progress = {}
        for file in files:
            first = file.offset // pieces.piece_length
            last = (file.offset + max(file.size, 1) - 1) // pieces.piece_length
            had = sum(1 for piece in range(first, last + 1) if pieces.has(piece))
            progress[file.index] = round(100.0 * had / (last - first + 1), 2)
        return progress

    def prefetch(self, infohash: str, file_index: int) -> None:
        """Fetch a video's first two and last piece before anything else: a player asks for
        them first (headers, MP4 `moov`, MKV cues), usually right after adding."""
        torrent = self._get(infohash)
        file, pieces = self._file(torrent, file_index), torrent.pieces
        assert pieces is not None
        first = file.offset // pieces.piece_length
        last = (file.offset + max(file.size, 1) - 1) // pieces.piece_length
        deadlines = {piece: 100 * n for n, piece in enumerate(range(first, min(first + 2, last + 1)))}
        deadlines.setdefault(last, 300)
        pieces.hold(("prefetch", file_index), deadlines)

    def file_path(self, infohash: str, file_index: int) -> Path:
        """Where a file of the torrent is (or will be) on disk."""
        torrent = self._get(infohash)
        return join_inside(torrent.save_path, self._file(torrent, file_index).path)

    def open_file(self, infohash: str, file_index: int, *, readahead: int = DEFAULT_READAHEAD) -> FileReader:
        """A reader that fetches the file's pieces on demand (see `reader.py`)."""
        torrent = self._get(infohash)
        file = self._file(torrent, file_index)
        assert torrent.pieces is not None
        return FileReader(torrent.pieces, file, readahead=readahead)

    async def until_unread(self, infohash: str) -> None:
        """Return once no reader of the torrent's files is open: players streaming from it
        finished or went away (or the torrent did)."""
        torrent = self._get(infohash)
        if torrent.pieces is not None:
            await torrent.pieces.until_unread()

    def subscribe(self, infohash: str | None = None, kinds: tuple[type, ...] | None = None) -> EventStream:
        """Events (`models.TorrentEvent`) for one torrent or all, optionally only some kinds."""
        return self._bus.subscribe(infohash, kinds)

    # -- internals -----------------------------------------------------------------------

    def _require_session(self) -> lt.session:
        if self._session is None or self._closing:
            raise RuntimeError("the torrent engine is not running (call start())")
        return self._session

    def _get(self, infohash: str) -> _Torrent:
        torrent = self._torrents.get(infohash)
        if torrent is None:
            raise TorrentNotFound(f"No torrent with info-hash {infohash} is loaded.")
        return torrent

    def _require_files(self, torrent: _Torrent) -> tuple[TorrentFile, ...]:
        if torrent.files is None:
            raise MetadataPending("The torrent's file list is not known yet; its metadata is still being fetched.")
        return torrent.files

    def _file(self, torrent: _Torrent, index: int) -> TorrentFile:
        for file in self._require_files(torrent):
            if file.index == index:
                return file
        raise ValueError(f"no such file index in this torrent: {index}")

    def _find(self, hashes: lt.info_hash_t) -> _Torrent | None:
        for key in _keys(hashes):
            if key in self._torrents:
                return self._torrents[key]
        return None

    def _forget(self, torrent: _Torrent) -> None:
        torrent.removed = True
        torrent.metadata.set()
        if torrent.pieces is not None:
            torrent.pieces.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("torrent engine task failed", exc_info=task.exception())

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        session = self._require_session()
        next_status = next_save = loop.time()
        while not self._closing:
            await loop.run_in_executor(self._alert_thread, session.wait_for_alert, _ALERT_WAIT_MS)
            for alert in session.pop_alerts():
                handler = self._handlers.get(type(alert))
                if handler is None:
                    continue
                try:
                    handler(alert)
                except Exception:
                    log.exception("handling %s failed", type(alert).__name__)
            now = loop.time()
            if now >= next_status:
                session.post_torrent_updates(0)
                next_status = now + STATUS_INTERVAL
            if now >= next_save:
                for torrent in self._torrents.values():
                    if torrent.unsaved_pieces or torrent.dirty:
                        self._request_save(torrent)
                next_save = now + self._resume_interval

    async def _load_metadata_if_known(self, torrent: _Torrent) -> None:
        st = await _blocking(torrent.handle.status, 0)
        if st.has_metadata:
            await self._load_metadata(torrent)

    async def _load_metadata(self, torrent: _Torrent) -> None:
        if torrent.loading_metadata or torrent.pieces is not None:
            return  # a dropped-alerts check and the metadata alert may both ask
        torrent.loading_metadata = True
        try:
            layout = await _blocking(_Layout.read, torrent.handle)
        except BaseException:
            torrent.loading_metadata = False  # the next metadata or dropped-alerts check tries again
            raise
        if torrent.removed:
            return
        for index, path in layout.renames:
            torrent.handle.rename_file(index, path)
        torrent.name, torrent.files, torrent.num_files = layout.name, layout.files, layout.num_files
        torrent.kept_priorities = layout.kept_priorities
        torrent.wanted_bytes = layout.wanted_bytes
        torrent.pieces = PieceTracker(torrent.handle, layout.num_pieces, layout.piece_length)
        await self._snapshot_pieces(torrent)
        torrent.metadata.set()
        self._bus.publish(MetadataReceived(torrent.infohash, layout.name, layout.files))
        self._request_save(torrent)

    async def _snapshot_pieces(self, torrent: _Torrent) -> None:
        st = await _blocking(torrent.handle.status, lt.status_flags_t.query_pieces)
        if torrent.pieces is not None and not torrent.removed:
            torrent.pieces.mark(i for i, have in enumerate(st.pieces) if have)

    async def _refresh_finished(self, torrent: _Torrent) -> None:
        st = await _blocking(torrent.handle.status, 0)
        if torrent.removed:
            return
        _set_status(torrent, status_from_lt(torrent.infohash, torrent.name, st, torrent.wanted_bytes))
        if torrent.status.finished:
            self._bus.publish(TorrentFinished(torrent.infohash))
            self._request_save(torrent)

    def _request_save(self, torrent: _Torrent) -> None:
        if torrent.removed:
            return
        torrent.handle.save_resume_data(_SAVE_FLAGS)
        torrent.saves_pending += 1
        torrent.unsaved_pieces = 0
        torrent.dirty = False

    async def _write_resume(self, torrent: _Torrent, data: bytes) -> None:
        try:
            async with self._write_lock:
                if not torrent.removed:
                    await _blocking(self._resume.save, torrent.infohash, data)
        except (OSError, TimeoutError):
            log.exception("could not write resume data for %s", torrent.infohash)
            torrent.dirty = True
        finally:
            self._save_answered(torrent)

    def _save_answered(self, torrent: _Torrent) -> None:
        torrent.saves_pending -= 1
        self._saved.set()

    async def _wait_for_saves(self) -> None:
        while any(torrent.saves_pending > 0 for torrent in self._torrents.values()):
            self._saved.clear()
            await self._saved.wait()

    # -- alert handlers (run on the loop, inside the pump; alerts die at the next pop) ----

    def _on_added(self, alert: lt.add_torrent_alert) -> None:
        for key in _keys(alert.params.info_hashes):
            added = self._adding.get(key)
            if added is None or added.done():
                continue
            if alert.error.value():
                added.set_exception(TorrentStartFailed(f"libtorrent could not add the torrent: {alert.error.message()}."))
            else:
                self._torrents[key].handle = alert.handle
                added.set_result(None)
            return
        if not alert.error.value():  # an add we gave up waiting for: nobody holds it, it goes
            log.warning("libtorrent added a torrent nobody waits for; removing it")
            self._require_session().remove_torrent(alert.handle)

    def _on_metadata_received(self, alert: lt.metadata_received_alert) -> None:
        if torrent := self._find(alert.handle.info_hashes()):
            self._spawn(self._load_metadata(torrent))

    def _on_checked(self, alert: lt.torrent_checked_alert) -> None:
        torrent = self._find(alert.handle.info_hashes())
        if torrent is not None and torrent.pieces is not None:
            self._spawn(self._snapshot_pieces(torrent))

    def _on_piece_finished(self, alert: lt.piece_finished_alert) -> None:
        torrent = self._find(alert.handle.info_hashes())
        if torrent is None or torrent.pieces is None:
            return
        torrent.pieces.mark([alert.piece_index])
        torrent.unsaved_pieces += 1
        self._bus.publish(PieceFinished(torrent.infohash, alert.piece_index))
        # Save on milestones too, so a crash loses at most ~5% of the pieces.
        if torrent.unsaved_pieces >= max(4, torrent.pieces.num_pieces // 20):
            self._request_save(torrent)

    def _on_read_piece(self, alert: lt.read_piece_alert) -> None:
        torrent = self._find(alert.handle.info_hashes())
        if torrent is not None and torrent.pieces is not None:
            error = alert.error.message() if alert.error.value() else None
            torrent.pieces.piece_read(alert.piece, bytes(alert.buffer or b""), error)

    def _on_finished(self, alert: lt.torrent_finished_alert) -> None:
        # The last pieces may still sit in libtorrent's write queue (seen in tests: files
        # missing right after this alert); announce the finish once they are on disk.
        if torrent := self._find(alert.handle.info_hashes()):
            torrent.finish_pending = True
            torrent.handle.flush_cache()

    def _on_cache_flushed(self, alert: lt.cache_flushed_alert) -> None:
        torrent = self._find(alert.handle.info_hashes())
        if torrent is not None and torrent.finish_pending:
            torrent.finish_pending = False
            self._spawn(self._refresh_finished(torrent))

    def _on_state_changed(self, alert: lt.state_changed_alert) -> None:
        if torrent := self._find(alert.handle.info_hashes()):
            state = state_name(alert.state)
            torrent.status = msgspec.structs.replace(torrent.status, state=state)
            self._bus.publish(StateChanged(torrent.infohash, state))

    def _on_state_update(self, alert: lt.state_update_alert) -> None:
        for st in alert.status:
            torrent = self._find(st.info_hashes)
            if torrent is not None and not torrent.removed:
                _set_status(torrent, status_from_lt(torrent.infohash, torrent.name, st, torrent.wanted_bytes))
                self._bus.publish(StatusUpdated(torrent.infohash, torrent.status))

    def _on_error(self, alert: lt.torrent_error_alert | lt.file_error_alert) -> None:
        if torrent := self._find(alert.handle.info_hashes()):
            # alert.message() names the host path of the file: the log gets it, users get the reason.
            log.warning("torrent %s failed: %s", torrent.infohash, alert.message())
            where = "Disk error while downloading" if isinstance(alert, lt.file_error_alert) else "The download failed"
            message = f"{where}: {alert.error.message()}."
            _set_status(torrent, msgspec.structs.replace(torrent.status, error=message))
            self._bus.publish(TorrentFailed(torrent.infohash, message))

    def _on_resume_data(self, alert: lt.save_resume_data_alert) -> None:
        torrent = self._find(alert.handle.info_hashes())
        if torrent is not None:
            self._spawn(self._write_resume(torrent, lt.write_resume_data_buf(alert.params)))

    def _on_resume_data_failed(self, alert: lt.save_resume_data_failed_alert) -> None:
        if torrent := self._find(alert.handle.info_hashes()):
            log.warning("resume data for %s not saved: %s", torrent.infohash, alert.message())
            self._save_answered(torrent)

    def _on_removed(self, alert: lt.torrent_removed_alert) -> None:
        for key in _keys(alert.info_hashes):
            pending = self._removals.get(key)
            if pending is None:
                continue
            done, deleting = pending
            if isinstance(alert, lt.torrent_delete_failed_alert):
                log.warning("could not delete the files of %s: %s", key, alert.message())
            if (deleting != isinstance(alert, lt.torrent_removed_alert)) and not done.done():
                done.set_result(None)

    def _on_rename_failed(self, alert: lt.file_rename_failed_alert) -> None:
        log.error("could not give file %d a safe name: %s", alert.index, alert.message())
        if torrent := self._find(alert.handle.info_hashes()):
            torrent.handle.pause()  # never write a file under a name we did not approve
            self._bus.publish(TorrentFailed(torrent.infohash, "A file of this torrent could not be given a safe name."))

    def _on_resume_rejected(self, alert: lt.fastresume_rejected_alert) -> None:
        log.warning("resume data rejected, rechecking files: %s", alert.message())

    def _on_alerts_dropped(self, alert: lt.alerts_dropped_alert) -> None:
        """The alert queue overflowed, so any alert may be lost: ask libtorrent again for
        everything we wait on (metadata, verified pieces, piece reads, the finish, saves)."""
        log.warning("libtorrent dropped alerts (queue full); asking again for what they would have said")
        for torrent in self._torrents.values():
            if torrent.removed or torrent.infohash in self._adding:
                continue
            if torrent.pieces is None:
                self._spawn(self._load_metadata_if_known(torrent))
                continue
            self._spawn(self._snapshot_pieces(torrent))
            torrent.pieces.read_again()
            if not torrent.status.finished:  # a finish is announced after a cache flush
                torrent.finish_pending = True
                torrent.handle.flush_cache()
            if torrent.saves_pending:
                torrent.saves_pending = 0
                self._request_save(torrent)

    def _on_listening(self, alert: lt.listen_succeeded_alert) -> None:
        if alert.socket_type == lt.listen_succeeded_alert_socket_type_t.tcp:
            self._listen_port = alert.port


def _set_status(torrent: _Torrent, status: TorrentStatus) -> None:
    """A new status, stamped with since when the torrent has been waiting for peers (this run)."""
    since = (torrent.status.stalled_since or utcnow()) if status.waiting_for_peers else None
    torrent.status = msgspec.structs.replace(status, stalled_since=since)


async def _blocking(call: Any, *args: Any) -> Any:
    """A blocking libtorrent or disk call in a worker thread, awaited for at most _CALL_TIMEOUT s."""
    async with asyncio.timeout(_CALL_TIMEOUT):
        return await asyncio.to_thread(call, *args)


def _keys(hashes: lt.info_hash_t) -> Iterator[str]:
    if hashes.has_v1():
        yield str(hashes.v1)
    if hashes.has_v2():
        yield str(hashes.v2)


def _add_params(magnet: Magnet, save_path: Path, resume: bytes | None, paused: bool) -> lt.add_torrent_params:
    from_magnet = lt.parse_magnet_uri(magnet.link)
    if magnet.infohash not in set(_keys(from_magnet.info_hashes)):  # we would wait for the wrong torrent
        raise TorrentStartFailed("libtorrent reads another info-hash from this magnet link.")
    params = from_magnet
    if resume is not None:
        try:
            params = lt.read_resume_data(resume)
        except RuntimeError as exc:
            log.warning("ignoring unreadable resume data for %s: %s", magnet.infohash, exc)
        else:
            params.trackers = list(dict.fromkeys([*params.trackers, *from_magnet.trackers]))
            params.peers = list(dict.fromkeys([*params.peers, *from_magnet.peers]))
    params.save_path = str(save_path)
    flags = params.flags & ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    if params is from_magnet:
        flags |= lt.torrent_flags.upload_mode  # nothing downloads before set_file_priorities
    if paused:
        flags |= lt.torrent_flags.paused
    params.flags = flags
    return params


@dataclass(frozen=True)
class _Layout:
    """A torrent's files as we expose them, and the renames that make their names safe."""

    name: str
    files: tuple[TorrentFile, ...]
    renames: list[tuple[int, str]]
    num_files: int
    kept_priorities: dict[int, int]
    num_pieces: int
    piece_length: int
    wanted_bytes: int

    @classmethod
    def read(cls, handle: lt.torrent_handle) -> _Layout:
        """Blocking (worker thread): names come from the original metadata, so re-reading a
        torrent restored from resume data yields the same safe names."""
        info = handle.torrent_file()
        storage = info.layout()
        priorities = handle.get_file_priorities()
        skip = lt.file_flags_t.flag_pad_file | lt.file_flags_t.flag_symlink
        indexes = [i for i in range(storage.num_files()) if not storage.file_flags(i) & skip]
        raw = [storage.file_path(i) for i in indexes]
        safe = unique_paths([safe_relative_path(path, f"file-{i}") for i, path in zip(indexes, raw, strict=True)])
        files = tuple(
            TorrentFile(index=i, path=str(path), size=storage.file_size(i), offset=storage.file_offset(i))
            for i, path in zip(indexes, safe, strict=True)
        )
        return cls(
            name=info.name(),
            files=files,
            renames=[(i, str(path)) for i, old, path in zip(indexes, raw, safe, strict=True) if PurePosixPath(old) != path],
            num_files=storage.num_files(),
            # BEP 47 symlinks and pad files hold no data and are not ours to choose: they keep
            # their priority. Turning a symlink's to 0 makes libtorrent stat it, and a link it
            # sanitised to point to itself (one that pointed outside) then fails the torrent.
            kept_priorities={i: priorities[i] for i in range(storage.num_files()) if storage.file_flags(i) & skip},
            num_pieces=info.num_pieces(),
            piece_length=info.piece_length(),
            wanted_bytes=sum(file.size for file in files if priorities[file.index] > 0),
        )
