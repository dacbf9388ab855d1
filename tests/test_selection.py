"""Which files of a torrent an item downloads, and where they go in the library."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from mediahub.library import layout
from mediahub.downloads.selection import NoVideo, select, sidecars_for
from mediahub.torrents.models import TorrentFile


def torrent(*entries: tuple[str, int]) -> list[TorrentFile]:
    files, offset = [], 0
    for index, (path, size) in enumerate(entries):
        files.append(TorrentFile(index=index, path=path, size=size, offset=offset))
        offset += size
    return files


MOVIE = torrent(
    ("Movie.2010.1080p/Movie.2010.1080p.mkv", 4_000),
    ("Movie.2010.1080p/Sample/movie.sample.mkv", 9_000),  # a big sample still loses
    ("Movie.2010.1080p/Movie.2010.1080p-trailer.mkv", 5_000),
    ("Movie.2010.1080p/Movie.2010.1080p.en.srt", 10),
    ("Movie.2010.1080p/Subs/Movie.2010.1080p.fr.srt", 10),
    ("Movie.2010.1080p/movie.nfo", 10),
    ("Movie.2010.1080p/Movie.2010.1080p.mkv.txt", 10),
)


def test_a_movie_takes_its_largest_feature_and_its_subtitles() -> None:
    chosen = select(MOVIE, "movie", "Movie.2010.1080p")
    assert chosen.movie == MOVIE[0]
    assert chosen.wanted == {0, 3, 4}
    assert sidecars_for(MOVIE[0].path, None, chosen.subtitles) == [MOVIE[3], MOVIE[4]]


def test_a_show_takes_every_episode_and_matches_subtitles_per_episode() -> None:
    files = torrent(
        ("Show.S02/Show.S02E01.mkv", 100),
        ("Show.S02/Show.S02E02.mkv", 100),
        ("Show.S02/Show.S02E02.en.srt", 1),
        ("Show.S02/Subs/S02E01.English.srt", 1),
        ("Show.S02/Featurettes/Making.Of.mkv", 300),
        ("Show.S02/show.s02e01.sample.mkv", 10),
    )
    chosen = select(files, "tv", "Show.S02")
    assert [(e.file_index, e.season, e.episodes) for e in chosen.episodes] == [(0, 2, (1,)), (1, 2, (2,))]
    assert chosen.wanted == {0, 1, 2, 3}
    first, second = chosen.episodes
    assert sidecars_for(files[0].path, first, chosen.subtitles) == [files[3]]
    assert sidecars_for(files[1].path, second, chosen.subtitles) == [files[2]]


def test_a_show_without_episode_numbers_is_numbered_in_name_order() -> None:
    files = torrent(("Docu/Part Two.mkv", 10), ("Docu/Part One.mkv", 10))
    chosen = select(files, "tv", "Docu")
    assert [(e.file_index, e.episodes) for e in chosen.episodes] == [(1, (1,)), (0, (2,))]


def test_no_video_is_an_error_with_a_sentence() -> None:
    with pytest.raises(NoVideo, match="no video file"):
        select(torrent(("Album/01.flac", 10), ("Album/cover.jpg", 1)), "movie", None)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (layout.movie_file("Inception", 2010, ".mp4"), "movies/Inception (2010)/Inception (2010).mp4"),
        (layout.movie_file("AC/DC: Live?", None, ".mkv"), "movies/AC_DC_ Live_/AC_DC_ Live_.mkv"),
        (layout.movie_file("..", 1999, ".mp4"), "movies/Untitled (1999)/Untitled (1999).mp4"),
        (
            layout.episode_file("The Office", 2005, 1, [2], "Diversity Day", ".mkv"),
            "tv/The Office (2005)/Season 01/The Office - S01E02 - Diversity Day.mkv",
        ),
        (
            layout.episode_file("Show", None, 10, [3, 4], None, ".mp4"),
            "tv/Show/Season 10/Show - S10E03-E04.mp4",
        ),
        (
            layout.episode_file("../Show", None, 1, [1], "a/b\\c", ".mp4"),
            "tv/.._Show/Season 01/.._Show - S01E01 - a_b_c.mp4",
        ),
    ],
)
def test_library_layout(path: PurePosixPath, expected: str) -> None:
    assert path == PurePosixPath(expected)
