"""Files written whole or not at all: a temp file beside the target, renamed over it.

A reader, or a restart after a crash, finds the old file or the new one, never half of one,
and a failed write leaves no temp file behind. The temp file is `.<name>.<random>.tmp` in the
target's directory (the same file system, so the rename is atomic); the start-up clean-up of
the library recognises that name.

`durable=True` also flushes the data, then the directory entry, to disk before returning: for
files a crash must not lose (resume data, the list of placed files, a library file whose
original is about to be deleted, the owner token). Without it the rename is atomic but may
be lost with the last seconds before a power cut, which is fine for what can be made again
(cached images, subtitles beside a video).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # what a download looks like: readable by whoever serves or backs up the data dir
SECRET_MODE = 0o600  # the owner's token: readable by the server's user only, from the first byte


@contextmanager
def replacing(path: Path, *, mode: int = FILE_MODE, durable: bool = False) -> Iterator[Path]:
    """Yield a temp path beside `path`; it replaces `path` when the block ends without error.

    The temp file exists, empty and with `mode`, when the block starts: write to it (by name,
    as PyAV does), or unlink it and link a file there. The parent directory is created if
    needed. If the block raises, the temp file is removed and `path` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        yield tmp
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
        if durable:
            _fsync(path.parent)  # the rename itself
    finally:
        # Gone after a rename; also after one that did nothing (`tmp` was a link to `path`).
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes | str, *, mode: int = FILE_MODE, durable: bool = False) -> None:
    """Write `data` (text as UTF-8) to `path` through `replacing`. Blocking: call it in a thread."""
    with replacing(path, mode=mode, durable=durable) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
