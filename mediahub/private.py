"""The data dir and the SQLite database are the server user's alone: created 0700 and 0600.

They hold the library, positions and token hashes (`owner.token` is written 0600 on its
own). What exists already keeps its mode: a data dir may be a folder the user shares on
purpose (say, `library/` with a media player running as another user), so it is never
changed behind their back; the start-up log says when others can read it, and how to stop
that. SQLite creates the `-wal` and `-shm` files with the database's own mode.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from mediahub.files import SECRET_MODE

log = logging.getLogger(__name__)


def private_dir(path: Path) -> None:
    """Create `path` 0700 (its missing parents as usual), or warn when an existing one is open."""
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        _warn_if_open(path, "chmod 700")


def private_file(path: Path) -> None:
    """Create an empty `path` 0600 for SQLite to fill, or warn when an existing one is open."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE))
    except FileExistsError:
        _warn_if_open(path, "chmod 600")


def _warn_if_open(path: Path, command: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s can be read by other users (mode %03o); `%s %s` keeps it private", path, mode, command, path)
