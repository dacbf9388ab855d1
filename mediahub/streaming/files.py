"""Atomic file writes: a temp file in the target's directory, renamed into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # library files are read by whoever serves or backs them up, like any download


@contextmanager
def temp_beside(path: Path) -> Iterator[Path]:
    """A temp file next to `path` (same file system, so `os.replace` is atomic).

    The caller renames it over `path`; if the block fails first, it is removed.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix + ".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    with temp_beside(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def fsync_file(path: Path) -> None:
    """Flush `path` to disk: done before deleting the only other copy of its content."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
