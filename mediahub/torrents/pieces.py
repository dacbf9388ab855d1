"""Per-torrent piece bookkeeping for readers: which pieces are verified, who waits for
which, whose piece deadlines are set, and the bytes of recently read pieces.

Piece bytes come from libtorrent (`read_piece`), not from the file on disk: libtorrent
reports a piece finished once its hash passes, which can be before its blocks are written
(measured: 7 of 220 pieces read from disk right after the alert were missing or stale).
`read_piece` serves from its write buffer or the disk, whichever holds the data, and also
covers pieces shared with skipped files (kept in the part file).

All methods run on the event loop. `set_piece_deadline`, `reset_piece_deadline` and
`read_piece` only post a message to libtorrent's network thread; `have_piece` is a
blocking round trip and goes to a worker thread.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping

import libtorrent as lt

from mediahub.torrents.errors import TorrentNotFound

CACHE_BYTES = 8 * 1024 * 1024
# libtorrent answers a read_piece or have_piece in milliseconds; a read_piece's answer (an
# alert) can be lost when the alert queue overflows. A read waits this long, then asks again
# on the next try.
READ_TIMEOUT = 20.0


class PieceTracker:
    def __init__(self, handle: lt.torrent_handle, num_pieces: int, piece_length: int) -> None:
        self.handle = handle
        self.num_pieces = num_pieces
        self.piece_length = piece_length
        self._have: set[int] = set()
        self._waiters: dict[int, asyncio.Event] = {}
        self._deadlines: dict[object, dict[int, int]] = {}  # owner -> {piece: deadline ms}
        self._holders: Counter[int] = Counter()
        self._reads: dict[int, asyncio.Future[bytes]] = {}
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_pieces = max(2, CACHE_BYTES // piece_length)
        self._readers = 0
        self._unread = asyncio.Event()
        self._unread.set()
        self._closed = False

    def has(self, piece: int) -> bool:
        return piece in self._have

    def mark(self, pieces: Iterable[int]) -> None:
        """Pieces verified (from piece_finished alerts or a status snapshot)."""
        for piece in pieces:
            self._have.add(piece)
            event = self._waiters.pop(piece, None)
            if event is not None:
                event.set()

    async def wait(self, piece: int, timeout: float | None = None) -> None:
        """Return once `piece` is verified; TimeoutError after `timeout` seconds."""
        self._check_open()
        if piece in self._have:
            return
        event = self._waiters.setdefault(piece, asyncio.Event())
        # Registered before asking libtorrent, so a piece finishing in between still wakes us.
        async with asyncio.timeout(timeout):
            async with asyncio.timeout(READ_TIMEOUT):  # the tighter of the two wins
                have = await asyncio.to_thread(self._ask_have, piece)
            if have:
                self.mark([piece])
            await event.wait()
        self._check_open()

    async def read(self, piece: int) -> bytes:
        """The bytes of a verified piece; concurrent reads of one piece share a request."""
        self._check_open()
        if (data := self._cache.get(piece)) is not None:
            self._cache.move_to_end(piece)
            return data
        future = self._reads.get(piece)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_consume_exception)
            self._reads[piece] = future
            self.handle.read_piece(piece)
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                return await asyncio.shield(future)  # one reader giving up must not fail the others
        except TimeoutError:
            if self._reads.get(piece) is future:
                del self._reads[piece]  # the next read asks libtorrent again
            raise

    def read_again(self) -> None:
        """Ask libtorrent again for every piece a reader waits for: its answer may have been lost."""
        for piece in self._reads:
            self.handle.read_piece(piece)

    def piece_read(self, piece: int, data: bytes, error: str | None) -> None:
        """libtorrent answered a `read_piece` (from the engine's read_piece_alert handler)."""
        future = self._reads.pop(piece, None)
        if future is None or future.done():
            return
        if error:
            future.set_exception(OSError(f"could not read piece {piece}: {error}"))
            return
        future.set_result(data)
        self._cache[piece] = data
        while len(self._cache) > self._cache_pieces:
            self._cache.popitem(last=False)

    def reader_opened(self) -> None:
        self._readers += 1
        self._unread.clear()

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._readers <= 0:
            self._unread.set()

    async def until_unread(self) -> None:
        """Return once no FileReader of the torrent is open (or the torrent went away)."""
        await self._unread.wait()

    def hold(self, owner: object, deadlines: Mapping[int, int]) -> None:
        """Make `deadlines` ({piece: ms from now}) the owner's set; drop its others."""
        self._check_open()
        previous = self._deadlines.get(owner, {})
        for piece in previous.keys() - deadlines.keys():
            self._release_piece(piece)
        for piece, ms in deadlines.items():
            if piece not in previous:
                self._holders[piece] += 1
                if piece not in self._have:
                    self.handle.set_piece_deadline(piece, ms)
        self._deadlines[owner] = dict(deadlines)

    def release(self, owner: object) -> None:
        for piece in self._deadlines.pop(owner, {}):
            self._release_piece(piece)

    def close(self) -> None:
        """The torrent left the engine: wake every waiter so it raises TorrentNotFound."""
        self._closed = True
        self._unread.set()
        for event in self._waiters.values():
            event.set()
        for future in self._reads.values():
            if not future.done():
                future.set_exception(TorrentNotFound("The torrent was removed."))
        self._waiters.clear()
        self._reads.clear()
        self._cache.clear()
        self._deadlines.clear()
        self._holders.clear()

    def _release_piece(self, piece: int) -> None:
        self._holders[piece] -= 1
        if self._holders[piece] <= 0:
            del self._holders[piece]
            if piece not in self._have and not self._closed:
                self.handle.reset_piece_deadline(piece)

    def _ask_have(self, piece: int) -> bool:
        try:
            return self.handle.have_piece(piece)
        except RuntimeError:  # invalid handle: the torrent was removed meanwhile
            return False

    def _check_open(self) -> None:
        if self._closed:
            raise TorrentNotFound("The torrent was removed.")


def _consume_exception(future: asyncio.Future[bytes]) -> None:
    if not future.cancelled():
        future.exception()  # mark it retrieved: every waiter may have given up
