"""The one atomic write: a reader finds the old file or the new one, never half, never a temp."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mediahub.files import SECRET_MODE, replacing, write_atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_goes_through_a_temp_file_renamed_over_the_target(tmp_path: Path) -> None:
    target = tmp_path / "state" / "placed" / "abc.json"  # missing folders are made
    write_atomic(target, b"old")
    inode = target.stat().st_ino
    with replacing(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".abc.json.") and tmp.name.endswith(".tmp")
        tmp.write_text("new")
        assert target.read_text() == "old"  # untouched until the block ends
    assert target.read_text() == "new" and target.stat().st_ino != inode  # a new file, renamed in
    assert sorted(p.name for p in target.parent.iterdir()) == ["abc.json"]


@pytest.mark.parametrize("durable", [False, True])
def test_an_error_mid_write_leaves_the_old_file_and_no_temp(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "resume.fastresume"
    write_atomic(target, "whole", durable=durable)
    with pytest.raises(RuntimeError, match="disk on fire"):
        with replacing(target, durable=durable) as tmp:
            tmp.write_bytes(b"ha")  # half of the new content ...
            raise RuntimeError("disk on fire")  # ... then the writer fails
    assert target.read_text() == "whole"
    assert [p.name for p in tmp_path.iterdir()] == ["resume.fastresume"]
    with pytest.raises(TypeError):  # not bytes: fails before anything is written
        write_atomic(tmp_path / "new.json", 42)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["resume.fastresume"]


def test_modes_ordinary_files_are_readable_the_secret_is_not(tmp_path: Path) -> None:
    old = os.umask(0o077)  # even a strict umask: a library file must be readable by its server's group
    try:
        write_atomic(tmp_path / "subtitle.vtt", "WEBVTT\n")
        write_atomic(tmp_path / "owner.token", "mh_secret\n", mode=SECRET_MODE, durable=True)
    finally:
        os.umask(old)
    assert mode(tmp_path / "subtitle.vtt") == 0o644
    assert mode(tmp_path / "owner.token") == 0o600
    assert (tmp_path / "owner.token").read_text() == "mh_secret\n"


def test_a_link_can_be_put_in_place_of_the_temp_file(tmp_path: Path) -> None:
    """How finalize places a kept original: a hard link, swapped in atomically."""
    source = tmp_path / "download.mp4"
    source.write_bytes(b"video")
    dest = tmp_path / "library" / "Movie (2010).mp4"
    for _ in range(2):  # the second time `dest` is already that link: rename does nothing
        with replacing(dest) as tmp:
            tmp.unlink()
            os.link(source, tmp)
    assert dest.read_bytes() == b"video" and dest.stat().st_ino == source.stat().st_ino
    assert [p.name for p in dest.parent.iterdir()] == ["Movie (2010).mp4"]
