"""Safe file names for anything a torrent (or a release title) tells us to write.

Torrent metadata is untrusted input: a file may be named `../../etc/x`, `/abs/path`,
`a\\b`, contain NUL or control characters, Windows-reserved names or be 4 KiB long.
Every name is reduced to plain path components here, and `join_inside` is the last
guard that a joined path stays under its root.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path, PurePosixPath

# ext4 and most file systems allow 255 bytes per name; leave room for " (2)" and temp suffixes.
MAX_NAME_BYTES = 200
# Keep whole relative paths well below PATH_MAX (4096) once joined under the data dir.
MAX_PATH_BYTES = 1000
_MAX_SUFFIX_CHARS = 16

_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*/\\]')  # separators too: one component
_SEPARATORS = re.compile(r"[\\/]+")
_WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)] + [f"lpt{i}" for i in range(1, 10)]
)


class UnsafePath(ValueError):
    """A path would leave the directory it must stay in."""


def without_format_characters(text: str) -> str:
    """`text` without Unicode format characters (category Cf): a right-to-left override
    (U+202E) shows `evil\u202egpj.exe` as `evilexe.jpg`, zero-width ones hide in plain sight."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def safe_name(name: str) -> str | None:
    """One path component (separators replaced too); None when nothing usable is left."""
    name = _UNSAFE_CHARS.sub("_", unicodedata.normalize("NFC", without_format_characters(name)))
    name = name.strip().rstrip(". ")  # trailing dots/spaces also turn ".." into ""
    if not name:
        return None
    if name.split(".", 1)[0].lower() in _WINDOWS_DEVICES:
        name = f"_{name}"
    return _truncate(name)


def safe_relative_path(raw: str, fallback: str) -> PurePosixPath:
    """A relative path made only of safe components (both / and \\ split); `fallback` if empty."""
    parts = [part for part in map(safe_name, _SEPARATORS.split(raw)) if part]
    if not parts:
        return PurePosixPath(safe_name(fallback) or "file")
    path = PurePosixPath(*parts)
    if len(str(path).encode()) > MAX_PATH_BYTES and len(parts) > 2:
        path = PurePosixPath(parts[0], parts[-1])  # keep the top folder and the file name
    return path


def unique_paths(paths: list[PurePosixPath]) -> list[PurePosixPath]:
    """Make colliding sanitised paths distinct by adding " (2)", " (3)", ... before the suffix."""
    seen: set[str] = set()
    result: list[PurePosixPath] = []
    for path in paths:
        candidate, n = path, 1
        while str(candidate).casefold() in seen:
            n += 1
            candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        seen.add(str(candidate).casefold())
        result.append(candidate)
    return result


def join_inside(root: Path, relative: PurePosixPath | str) -> Path:
    """`root / relative`, refusing anything that would resolve outside `root`."""
    base = root.resolve()
    target = (base / relative).resolve()
    if target != base and os.path.commonpath([base, target]) != str(base):
        raise UnsafePath(f"{relative!s} would be outside {root}")
    return target


def _truncate(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > _MAX_SUFFIX_CHARS:
        stem, suffix = name, ""
    ext = f".{suffix}" if suffix else ""
    budget = MAX_NAME_BYTES - len(ext.encode())
    return stem.encode()[:budget].decode(errors="ignore").rstrip(". ") + ext
