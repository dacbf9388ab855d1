"""Plain values the engine hands out: status snapshots, file lists and events.

They are frozen msgspec structs so they can cross into the database layer, the HTTP API
and notebook widgets without dragging libtorrent objects (only valid inside the alert
pump) along.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import libtorrent as lt
import msgspec

TorrentState = Literal["checking", "downloading_metadata", "downloading", "finished", "seeding"]

_STATES: dict[str, TorrentState] = {
    "queued_for_checking": "checking",
    "checking_files": "checking",
    "checking_resume_data": "checking",
    "allocating": "checking",
    "downloading_metadata": "downloading_metadata",
    "downloading": "downloading",
    "finished": "finished",
    "seeding": "seeding",
}


class TorrentFile(msgspec.Struct, frozen=True):
    """One file of a torrent; `path` is the sanitised path relative to the save path."""

    index: int
    path: str
    size: int
    offset: int  # byte offset of the file inside the torrent's piece space


class TorrentStatus(msgspec.Struct, frozen=True):
    infohash: str
    name: str
    state: TorrentState
    has_metadata: bool
    progress: float  # 0-100 of the wanted (selected) bytes
    download_rate: int  # payload bytes/s
    upload_rate: int
    peers: int
    seeds: int
    downloaded_bytes: int  # verified bytes of the selected files
    total_bytes: int  # size of the selected files (0 until metadata and a selection exist)
    session_downloaded: int  # payload bytes received since this engine added the torrent
    eta: float | None  # seconds, None when unknown
    error: str | None
    paused: bool
    finished: bool  # every wanted byte verified
    stalled_since: datetime | None = None  # since when it has wanted peers and had none (the engine sets it)

    @property
    def waiting_for_peers(self) -> bool:
        """Running and unfinished, with no peer connected: a magnet nobody seeds (yet)."""
        return not (self.paused or self.finished or self.error) and self.peers == 0


def initial_status(infohash: str, name: str) -> TorrentStatus:
    """What we know of a torrent before libtorrent reports on it."""
    return TorrentStatus(
        infohash=infohash, name=name, state="checking", has_metadata=False, progress=0.0, download_rate=0,
        upload_rate=0, peers=0, seeds=0, downloaded_bytes=0, total_bytes=0, session_downloaded=0, eta=None,
        error=None, paused=False, finished=False,
    )  # fmt: skip


def state_name(state: object) -> TorrentState:
    return _STATES.get(str(state), "checking")


def status_from_lt(infohash: str, name: str, st: lt.torrent_status, wanted_bytes: int) -> TorrentStatus:
    """Convert libtorrent's status; `wanted_bytes` is the size of the selected files.

    libtorrent counts wanted bytes per piece (pieces shared with skipped files count
    whole), so its ratio gives the progress and `wanted_bytes` the sizes users expect.
    """
    upload_mode = bool(st.flags & lt.torrent_flags.upload_mode)
    selected = st.has_metadata and not upload_mode and st.total_wanted > 0
    finished = bool(selected and st.is_finished)
    fraction = 1.0 if finished else (st.total_wanted_done / st.total_wanted if selected else 0.0)
    paused = bool(st.flags & lt.torrent_flags.paused)
    rate = 0 if paused else st.download_payload_rate  # libtorrent's rate decays after a pause
    if finished:
        eta: float | None = 0.0
    elif selected and rate > 0:
        eta = (st.total_wanted - st.total_wanted_done) / rate
    else:
        eta = None
    error = st.errc.message() if st.errc.value() else None
    return TorrentStatus(
        infohash=infohash,
        name=name,
        state=state_name(st.state),
        has_metadata=st.has_metadata,
        progress=round(100.0 * fraction, 2),
        download_rate=rate,
        upload_rate=0 if paused else st.upload_payload_rate,
        peers=st.num_peers,
        seeds=st.num_seeds,
        downloaded_bytes=round(wanted_bytes * fraction) if selected else 0,
        total_bytes=wanted_bytes if selected else 0,
        session_downloaded=st.total_payload_download,
        eta=eta,
        error=error,
        paused=paused,
        finished=finished,
    )


# Events: one tagged union so subscribers can `match` on the type.


class MetadataReceived(msgspec.Struct, frozen=True, tag=True):
    infohash: str
    name: str
    files: tuple[TorrentFile, ...]


class PieceFinished(msgspec.Struct, frozen=True, tag=True):
    infohash: str
    piece: int


class TorrentFinished(msgspec.Struct, frozen=True, tag=True):
    infohash: str


class TorrentFailed(msgspec.Struct, frozen=True, tag=True):
    infohash: str
    message: str


class StateChanged(msgspec.Struct, frozen=True, tag=True):
    infohash: str
    state: TorrentState


class StatusUpdated(msgspec.Struct, frozen=True, tag=True):
    """About once a second for every torrent whose numbers changed."""

    infohash: str
    status: TorrentStatus


class TorrentRemoved(msgspec.Struct, frozen=True, tag=True):
    infohash: str


TorrentEvent = (
    MetadataReceived | PieceFinished | TorrentFinished | TorrentFailed | StateChanged | StatusUpdated | TorrentRemoved
)
