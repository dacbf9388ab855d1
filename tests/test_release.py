"""Release-name parsing on real-world names: what a user sees as title/year/season/episode."""

from __future__ import annotations

import pytest

from mediahub.metadata.release import (
    detect_type,
    is_sample_or_extra,
    is_subtitle_file,
    is_video_file,
    map_episodes,
    parse_release,
)

# name -> (type, title, year, seasons, episodes, absolute)
NAMES = [
    # movies
    ("Inception.2010.1080p.BluRay.x264-SPARKS", "movie", "Inception", 2010, (), (), False),
    ("The.Matrix.1999.REMASTERED.1080p.BluRay.x265-RARBG", "movie", "The Matrix", 1999, (), (), False),
    ("Pulp.Fiction.1994.720p.BrRip.x264.YIFY.mp4", "movie", "Pulp Fiction", 1994, (), (), False),
    ("Parasite.2019.KOREAN.1080p.BluRay.H264.AAC-VXT", "movie", "Parasite", 2019, (), (), False),
    ("Alien.1979.Directors.Cut.1080p.BluRay.DTS.x264", "movie", "Alien", 1979, (), (), False),
    ("Avengers.Endgame.2019.2160p.UHD.BluRay.x265.10bit.HDR.TrueHD.7.1.Atmos-TERMiNAL",
     "movie", "Avengers Endgame", 2019, (), (), False),
    ("Mad Max Fury Road (2015) [1080p] [YTS.AG]", "movie", "Mad Max Fury Road", 2015, (), (), False),
    ("Spirited.Away.2001.JAPANESE.1080p.BluRay.x264.DTS-FGT.mkv", "movie", "Spirited Away", 2001, (), (), False),
    ("Rocky.II.1979.1080p.BluRay.mkv", "movie", "Rocky II", 1979, (), (), False),
    ("Se7en.1995.1080p.BluRay.mkv", "movie", "Se7en", 1995, (), (), False),
    ("Friday.the.13th.Part.2.1981.720p.mkv", "movie", "Friday the 13th", 1981, (), (), False),
    ("Oceans.Eleven.2001.720p.BluRay.mkv", "movie", "Oceans Eleven", 2001, (), (), False),
    ("Big Buck Bunny", "movie", "Big Buck Bunny", None, (), (), False),
    # years and numbers that are titles
    ("2001.A.Space.Odyssey.1968.1080p.BluRay.x264", "movie", "2001 A Space Odyssey", 1968, (), (), False),
    ("2001.A.Space.Odyssey.mkv", "movie", "2001 A Space Odyssey", None, (), (), False),
    ("1917.2019.2160p.UHD.BluRay.x265-TERMiNAL", "movie", "1917", 2019, (), (), False),
    ("1917.mkv", "movie", "1917", None, (), (), False),
    ("Blade.Runner.2049.2017.1080p.WEB-DL.DD5.1.H264-FGT", "movie", "Blade Runner 2049", 2017, (), (), False),
    ("Blade Runner 2049.mkv", "movie", "Blade Runner 2049", None, (), (), False),
    ("2012.2009.1080p.BluRay.mkv", "movie", "2012", 2009, (), (), False),
    ("Apollo 13.mkv", "movie", "Apollo 13", None, (), (), False),
    ("District.9.2009.720p.mkv", "movie", "District 9", 2009, (), (), False),
    ("District 9.mkv", "movie", "District 9", None, (), (), False),
    # episodes
    ("The.Office.US.S02E03.720p.HDTV.x264-CTU", "tv", "The Office", None, (2,), (3,), False),
    ("Fargo.S03E10.Somebody.To.Love.1080p.AMZN.WEB-DL", "tv", "Fargo", None, (3,), (10,), False),
    ("Friends.1x02.The.One.with.the.Sonogram.at.the.End.avi", "tv", "Friends", None, (1,), (2,), False),
    ("Doctor.Who.2005.S01E01.Rose.720p.mkv", "tv", "Doctor Who", 2005, (1,), (1,), False),
    ("24.S01E01.720p.BluRay.mkv", "tv", "24", None, (1,), (1,), False),
    ("1883.S01E01.1080p.WEB.H264.mkv", "tv", "1883", None, (1,), (1,), False),
    ("The.100.S03E07.720p.HDTV.mkv", "tv", "The 100", None, (3,), (7,), False),
    ("Trailer.Park.Boys.S01E01.mkv", "tv", "Trailer Park Boys", None, (1,), (1,), False),
    ("Show.S00E01.Christmas.Special.mkv", "tv", "Show", None, (0,), (1,), False),
    ("Seinfeld.S05E101.mkv", "tv", "Seinfeld", None, (5,), (101,), False),
    ("Show/Season 1/Episode 2.mkv", "tv", "Show", None, (1,), (2,), False),
    ("the.simpsons.102.hdtv.avi", "tv", "the simpsons", None, (1,), (2,), False),
    ("Seinfeld.315.The.Pez.Dispenser.avi", "tv", "Seinfeld", None, (3,), (15,), False),
    # multi-episode files
    ("Breaking.Bad.S01E01E02.720p.mkv", "tv", "Breaking Bad", None, (1,), (1, 2), False),
    ("Breaking.Bad.S01E01-E02.720p.mkv", "tv", "Breaking Bad", None, (1,), (1, 2), False),
    ("Westworld.S01E01-03.1080p.mkv", "tv", "Westworld", None, (1,), (1, 2, 3), False),
    ("Show - 1x01-1x02.mkv", "tv", "Show", None, (1,), (1, 2), False),
    # packs
    ("Game.of.Thrones.S01.COMPLETE.1080p.BluRay.x264", "tv", "Game of Thrones", None, (1,), (), False),
    ("The.Expanse.S04.1080p.AMZN.WEB-DL.DDP5.1.H.264-NTb", "tv", "The Expanse", None, (4,), (), False),
    ("Breaking Bad Season 1", "tv", "Breaking Bad", None, (1,), (), False),
    ("Dark.S01-S03.1080p.NF.WEB-DL", "tv", "Dark", None, (1, 2, 3), (), False),
    ("The Wire Complete Series 1080p", "tv", "The Wire", None, (), (), False),
    # anime: absolute numbering, CRCs that are not episodes
    ("[HorribleSubs] One Piece - 890 [720p].mkv", "tv", "One Piece", None, (), (890,), True),
    ("[SubsPlease] Jujutsu Kaisen - 24 (1080p) [E63F2984].mkv", "tv", "Jujutsu Kaisen", None, (), (24,), True),
    ("[Erai-raws] Shingeki no Kyojin - 01 [1080p][12345678].mkv", "tv", "Shingeki no Kyojin", None, (), (1,), True),
    ("[HorribleSubs] One Punch Man - 01-02 [720p].mkv", "tv", "One Punch Man", None, (), (1, 2), True),
    ("Naruto Shippuden - 500.mkv", "tv", "Naruto Shippuden", None, (), (500,), True),
    ("Naruto.Shippuden.001.mkv", "tv", "Naruto Shippuden", None, (), (1,), True),
    ("Dragon Ball Z - 001 - The New Threat.mkv", "tv", "Dragon Ball Z", None, (), (1,), True),
    ("[Judas] Attack on Titan - S04E01.mkv", "tv", "Attack on Titan", None, (4,), (1,), False),
]


@pytest.mark.parametrize(("name", "kind", "title", "year", "seasons", "episodes", "absolute"), NAMES)
def test_parse_release(name, kind, title, year, seasons, episodes, absolute):
    release = parse_release(name)
    got = (release.type, release.title, release.year, release.seasons, release.episodes, release.absolute)
    assert got == (kind, title, year, seasons, episodes, absolute)


def test_table_is_large_enough():
    assert len(NAMES) >= 40


@pytest.mark.parametrize(
    ("display_name", "files", "expected"),
    [
        ("Inception.2010.1080p.BluRay.x264", ["Inception.2010.1080p.mkv", "Sample/sample.mkv"], "movie"),
        ("Inception.2010.1080p.BluRay.x264", [], "movie"),
        ("The.Office.US.S02.720p", [], "tv"),
        ("Show.S01E02.720p.mkv", [], "tv"),
        ("Friends.1x02.avi", [], "tv"),
        ("Breaking Bad Season 1", [], "tv"),
        ("The Wire Complete Series 1080p", [], "tv"),
        # the display name says nothing, the files do
        ("My Videos", ["My Videos/Show.S01E01.mkv", "My Videos/Show.S01E02.mkv"], "tv"),
        ("Pack", ["Pack/01.mkv", "Pack/02.mkv", "Pack/03.mkv"], "tv"),
        ("Movie.2019", ["Movie.2019/Movie.CD1.avi"], "movie"),
        (None, ["Apollo 13.mkv"], "movie"),
        (None, ["[SubsPlease] Show - 05 (1080p) [E63F2984].mkv"], "tv"),
        (None, [], None),
        (None, ["readme.txt"], None),
    ],
)
def test_detect_type(display_name, files, expected):
    assert detect_type(display_name, files) == expected


def _mapping(files, hint=None):
    indexed = [(i, path, size) for i, (path, size) in enumerate(files)]
    return [(e.file_index, e.season, e.episodes, e.absolute) for e in map_episodes(indexed, hint)]


def test_map_season_pack_skips_extras_and_non_video():
    files = [
        ("Show.S01.1080p/Show.S01E02.1080p.mkv", 900),
        ("Show.S01.1080p/Show.S01E01.1080p.mkv", 1000),
        ("Show.S01.1080p/Show.S01E03E04.1080p.mkv", 2000),
        ("Show.S01.1080p/Show.S01E05-E07.1080p.mkv", 3000),
        ("Show.S01.1080p/Show.S01E08-09.1080p.mkv", 2000),
        ("Show.S01.1080p/Sample/show.s01e01.sample.mkv", 10),
        ("Show.S01.1080p/Featurettes/Making Of.mkv", 50),
        ("Show.S01.1080p/Show.S01E01.1080p.en.srt", 1),
        ("Show.S01.1080p/info.nfo", 1),
    ]
    assert _mapping(files, "Show.S01.1080p") == [
        (1, 1, (1,), False),
        (0, 1, (2,), False),
        (2, 1, (3, 4), False),
        (3, 1, (5, 6, 7), False),
        (4, 1, (8, 9), False),
    ]


def test_map_season_folders_and_episode_words():
    files = [
        ("Show/Season 1/Episode 1.mkv", 10),
        ("Show/Season 1/Episode 2.mkv", 10),
        ("Show/Season 2/01.mkv", 10),
        ("Show/Season 2/2x02.mkv", 10),
    ]
    assert _mapping(files, "Show") == [
        (0, 1, (1,), False), (1, 1, (2,), False), (2, 2, (1,), False), (3, 2, (2,), False),
    ]


def test_map_three_digit_episodes_pack_wide():
    files = [("the.simpsons.101.avi", 1), ("the.simpsons.102.avi", 1), ("the.simpsons.213.avi", 1)]
    assert _mapping(files) == [(0, 1, (1,), False), (1, 1, (2,), False), (2, 2, (13,), False)]


def test_map_absolute_anime_pack_with_crc():
    files = [
        ("[Group] Show - 099 [1080p][E63F2984].mkv", 1),
        ("[Group] Show - 100 [1080p][0A1B2C3D].mkv", 1),
        ("[Group] Show - 101 [1080p][99999999].mkv", 1),
    ]
    assert _mapping(files, "[Group] Show (001-101) [1080p]") == [
        (0, 1, (99,), True), (1, 1, (100,), True), (2, 1, (101,), True),
    ]


def test_map_numbers_in_titles_with_hint():
    files = [("24.S02/24.S02E01.mkv", 1), ("24.S02/24.S02E02.mkv", 1)]
    assert _mapping(files, "24.S02.720p") == [(0, 2, (1,), False), (1, 2, (2,), False)]
    files = [("The 100/The 100 - 01.mkv", 1), ("The 100/The 100 - 02.mkv", 1)]
    assert _mapping(files, "The.100.S03.720p.HDTV") == [(0, 3, (1,), False), (1, 3, (2,), False)]


def test_map_duplicate_episode_keeps_largest_file():
    files = [("Show.S01E01.720p.mkv", 500), ("Show.S01E01.1080p.mkv", 900)]
    assert _mapping(files) == [(1, 1, (1,), False)]


@pytest.mark.parametrize(
    ("path", "video", "subtitle", "extra"),
    [
        ("Movie (2010)/Movie (2010).mkv", True, False, False),
        ("Movie.2010.MP4", True, False, False),
        ("Movie (2010)/Movie (2010).en.srt", False, True, False),
        ("Show/Subs/S01E01.ass", False, True, False),
        ("Movie/Sample/movie.mkv", True, False, True),
        ("Movie/movie-sample.mkv", True, False, True),
        ("Movie/Movie.2010.Trailer.mkv", True, False, True),
        ("Movie/Movie-featurette.mkv", True, False, True),
        ("Movie/Extras/Gag Reel.mkv", True, False, True),
        ("Movie/Behind The Scenes/Part 1.mkv", True, False, True),
        ("Trailer.Park.Boys.S01E01.mkv", True, False, False),
        ("Show.S02E03.The.Interview.mkv", True, False, False),
        ("Movie/cover.jpg", False, False, False),
    ],
)
def test_file_kinds(path, video, subtitle, extra):
    assert (is_video_file(path), is_subtitle_file(path), is_sample_or_extra(path)) == (video, subtitle, extra)


@pytest.mark.parametrize("name", [row[0] for row in NAMES if row[4] and row[5] and not row[6]])
def test_pack_mapping_agrees_with_single_name_parsing(name):
    """The pack mapper's fast path for plain SxxEyy names must read them as guessit does."""
    path = name if name.endswith((".mkv", ".avi", ".mp4")) else name + ".mkv"
    release = parse_release(path)
    assert [(e.season, e.episodes) for e in map_episodes([(0, path, 1)])] == [(release.season, release.episodes)]
