"""Names from torrent metadata are untrusted: they become plain relative paths under the save path."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from mediahub.torrents.paths import UnsafePath, join_inside, safe_name, safe_relative_path, unique_paths


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Movie (2010)/Movie (2010).mkv", "Movie (2010)/Movie (2010).mkv"),
        ("../../escape.mkv", "escape.mkv"),
        ("/etc/x", "etc/x"),
        ("..\\..\\win.mkv", "win.mkv"),
        ("a/./b/../c.mkv", "a/b/c.mkv"),
        ("nul\x00byte\x1f.mkv", "nul_byte_.mkv"),
        ('what?<is>:"this"|*.mkv', "what__is___this___.mkv"),
        ("CON", "_CON"),
        ("Show/com1.txt", "Show/_com1.txt"),
        ("trailing dots... /file. ", "trailing dots/file"),
        ("", "fallback"),
        ("../..", "fallback"),
    ],
)
def test_safe_relative_path(raw: str, expected: str) -> None:
    assert safe_relative_path(raw, "fallback") == PurePosixPath(expected)


def test_long_names_are_cut_but_keep_their_extension() -> None:
    name = safe_name("é" * 300 + ".mkv")
    assert name is not None and name.endswith(".mkv") and len(name.encode()) <= 200
    assert name.startswith("é" * 50)  # cut on a character boundary


def test_very_deep_paths_keep_top_folder_and_file_name() -> None:
    path = safe_relative_path("/".join(["d" * 150] * 20) + "/movie.mkv", "x")
    assert path == PurePosixPath("d" * 150, "movie.mkv")


def test_collisions_after_sanitising_get_numbered() -> None:
    paths = [PurePosixPath("a/b.mkv"), PurePosixPath("a/B.mkv"), PurePosixPath("a/b.mkv")]
    assert unique_paths(paths) == [PurePosixPath("a/b.mkv"), PurePosixPath("a/B (2).mkv"), PurePosixPath("a/b (3).mkv")]


def test_join_inside_refuses_escapes(tmp_path: Path) -> None:
    assert join_inside(tmp_path, "a/b.mkv") == tmp_path.resolve() / "a" / "b.mkv"
    (tmp_path / "link").symlink_to("/etc")
    for bad in ("../x", "/etc/passwd", "link/passwd"):
        with pytest.raises(UnsafePath):
            join_inside(tmp_path, bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("AC/DC", "AC_DC"), ("..", None), ("a\\..\\b", "a_.._b"), ("  ", None), ("Title.", "Title"), ("nul", "_nul"),
     ("\u202eevil\u200b.mp4", "evil.mp4"), ("\u2066\u202e", None)],
)
def test_safe_name_is_always_one_component(raw: str, expected: str | None) -> None:
    assert safe_name(raw) == expected
