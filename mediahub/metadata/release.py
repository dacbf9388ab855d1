"""Release-name parsing: what a magnet's display name or a torrent's file names tell us.

guessit does the heavy lifting; this module fixes the cases where its guess is wrong for
a media library (years that are titles, "Blade Runner 2049", bare numbers that are really
3-digit `102` episodes or anime absolute numbers) and turns a season pack's file list into
a file -> (season, episodes) mapping.

Pure functions, no I/O. guessit costs a few milliseconds per name, so callers with large
packs should run `map_episodes`/`detect_type` in a worker thread.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any, Literal

import msgspec
from guessit import guessit

from mediahub.torrents.paths import without_format_characters

MediaKind = Literal["movie", "tv"]

VIDEO_EXTENSIONS = frozenset(
    {".mkv", ".mp4", ".m4v", ".avi", ".mov", ".webm", ".wmv", ".flv", ".mpg", ".mpeg",
     ".ts", ".m2ts", ".mts", ".ogv", ".3gp", ".divx", ".vob"}
)
# Text subtitle formats only: these are the ones the streaming side converts to WebVTT.
SUBTITLE_EXTENSIONS = frozenset({".srt", ".ass", ".ssa", ".vtt"})

# Folder names that hold extras rather than the feature or episodes (Plex/Jellyfin naming).
_EXTRA_DIRS = frozenset(
    {"sample", "samples", "extra", "extras", "featurette", "featurettes", "trailer",
     "trailers", "behind the scenes", "deleted scenes", "interviews", "scenes", "shorts",
     "bonus", "bonus features", "other", "others"}
)
_SAMPLE_WORD = re.compile(r"(?:^|[\s._\-\[(])sample(?:$|[\s._\-\])\d])", re.IGNORECASE)
# Extras named by suffix ("Movie-trailer.mkv"): only as a suffix, so "Trailer Park Boys" stays.
_EXTRA_SUFFIX = re.compile(
    r"(?:(?:^|[\s._\-])(?:trailer|teaser)|-(?:featurette|behindthescenes|deleted|"
    r"deletedscene|interview|scene|short|clip|extra|other))\d*$",
    re.IGNORECASE,
)
# Fansub style: "[Group] Show - 05 [1080p]" numbers episodes absolutely.
_ANIME_STYLE = re.compile(r"^\s*\[[^\]]+\]|\s-\s\d{1,4}(?:\D|$)")


class Release(msgspec.Struct, frozen=True, kw_only=True):
    """What a release/display/file name says about its content.

    `episodes` are absolute numbers (no known season) when `absolute` is true, as in
    anime releases ("[Group] Show - 890"). `seasons` has several entries for multi-season
    packs ("S01-S03"); `complete` marks "Complete Series"-style packs.
    """

    name: str
    title: str | None = None
    year: int | None = None
    type: MediaKind = "movie"
    seasons: tuple[int, ...] = ()
    episodes: tuple[int, ...] = ()
    absolute: bool = False
    episode_title: str | None = None
    complete: bool = False
    is_sample: bool = False
    is_extra: bool = False

    @property
    def season(self) -> int | None:
        return self.seasons[0] if self.seasons else None


class EpisodeFile(msgspec.Struct, frozen=True, kw_only=True):
    """One video file of a pack and the episode(s) it holds.

    `absolute` means the names carried no season: `episodes` are absolute numbers and
    `season` is 1 until TMDB tells us how the show's seasons split.
    """

    file_index: int
    path: str
    size: int
    season: int
    episodes: tuple[int, ...]
    absolute: bool = False


def is_video_file(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in VIDEO_EXTENSIONS


def is_subtitle_file(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in SUBTITLE_EXTENSIONS


def is_sample_or_extra(path: str) -> bool:
    """Samples, trailers, featurettes and anything inside an extras folder."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if any(part.lower() in _EXTRA_DIRS for part in parts[:-1]):
        return True
    stem = PurePosixPath(parts[-1]).stem if parts else ""
    return bool(_SAMPLE_WORD.search(stem) or _EXTRA_SUFFIX.search(stem))


def parse_release(name: str, title_hint: str | None = None) -> Release:
    """Parse one display or file name (a path with folders is fine).

    `title_hint` is the show's known title; it keeps numeric titles ("24", "1883",
    "The 100") from being read as episode numbers.
    """
    release, bare = _parse(name, title_hint)
    if not bare:
        return release
    numbers = [n for n, _ in bare]
    if _splits_as_three_digit(bare) and not _ANIME_STYLE.search(_basename(name)):
        return _with(release, type="tv", seasons=(numbers[0] // 100,),
                     episodes=tuple(n % 100 for n in numbers))
    if _ANIME_STYLE.search(_basename(name)) or any(d.startswith("0") for _, d in bare):
        return _with(release, type="tv", episodes=tuple(numbers), absolute=True)
    # A lone number that is neither "102" nor anime style is part of a movie title
    # ("Apollo 13", "District 9", "Blade Runner 2049").
    return _movie_reparse(name)


def detect_type(display_name: str | None, file_names: Sequence[str]) -> MediaKind | None:
    """Movie or TV from the magnet's display name and (once known) its file names.

    Any TV signal wins (an episode marker, "Season 1", a pack of numbered files); otherwise
    it is a movie. None when there is nothing to go on.
    """
    videos = [f for f in file_names if is_video_file(f) and not is_sample_or_extra(f)]
    if not display_name and not videos:
        return None
    hint = parse_release(display_name) if display_name else None
    if hint is not None and hint.type == "tv":
        return "tv"
    title = hint.title if hint else None
    if any(parse_release(f, title).type == "tv" for f in videos):
        return "tv"
    if len(videos) > 1 and len(map_episodes([(i, f, 0) for i, f in enumerate(videos)], display_name)) > 1:
        return "tv"
    return "movie"


def map_episodes(files: Iterable[tuple[int, str, int]], show_hint: str | None = None) -> list[EpisodeFile]:
    """Map a pack's video files to (season, episodes); files without a number are left out.

    `files` are (file_index, path, size) as the torrent lists them; `show_hint` is the
    display name or show title (its season is used for files that name none). Samples and
    extras are skipped; when two files claim the same episode the larger one wins.
    Bare numbers are read pack-wide: all of them looking like `102`/`213` means 3-digit
    SxxEyy, otherwise they are episode numbers (absolute when no season is known).
    """
    hint = parse_release(show_hint) if show_hint else None
    hint_title = hint.title if hint else None
    hint_season = hint.season if hint and len(hint.seasons) == 1 else None

    parsed: list[tuple[int, str, int, int | None, tuple[int, ...], tuple[tuple[int, str], ...]]] = []
    for index, path, size in files:
        if is_video_file(path) and not is_sample_or_extra(path):
            quick = _plain_sxxeyy(_basename(path))
            if quick is not None:
                parsed.append((index, path, size, quick[0], quick[1], ()))
            else:
                release, bare = _parse(path, hint_title)
                parsed.append((index, path, size, release.season, release.episodes, bare))

    all_bare = [b for *_, bare in parsed for b in bare]
    three_digit = bool(all_bare) and _splits_as_three_digit(all_bare) and not any(
        _ANIME_STYLE.search(_basename(path)) for _, path, *_, bare in parsed if bare
    )

    best: dict[tuple[int, int], EpisodeFile] = {}
    for index, path, size, season, episodes, bare in parsed:
        absolute = False
        if bare and three_digit:
            season = bare[0][0] // 100
            episodes = tuple(n % 100 for n, _ in bare)
        elif bare:
            episodes = tuple(n for n, _ in bare)
        if episodes and season is None:
            season, absolute = (hint_season, False) if hint_season is not None else (1, True)
        if season is None or not episodes:
            continue
        entry = EpisodeFile(file_index=index, path=path, size=size, season=season,
                            episodes=episodes, absolute=absolute)
        key = (season, episodes[0])
        if key not in best or size > best[key].size:
            best[key] = entry
    return sorted(best.values(), key=lambda e: (e.season, e.episodes))


# --- internals ---------------------------------------------------------------------------

# The common case, "Show.S01E02.1080p.mkv" or "S01E02E03": one marker, no range.
# A "-" between episodes is a range ("E01-E03" is 1, 2, 3): left to guessit.
_SXXEYY = re.compile(r"(?<![a-z0-9])s(\d{1,2})((?:[ ._]?e\d{1,3})+)(?![a-z0-9-])", re.IGNORECASE)


def _plain_sxxeyy(basename: str) -> tuple[int, tuple[int, ...]] | None:
    """Season and episodes of an unambiguous SxxEyy name, without guessit.

    guessit costs ~20 ms a name; a 500-file pack would take 10 s. Anything less plain
    (ranges, several markers, bare numbers) is left to guessit.
    """
    matches = _SXXEYY.findall(basename)
    if len(matches) != 1:
        return None
    season, tail = matches[0]
    episodes = tuple(int(n) for n in re.findall(r"\d+", tail))
    return (int(season), episodes) if len(set(episodes)) == len(episodes) else None


@functools.lru_cache(maxsize=4096)
def _parse(name: str, title_hint: str | None) -> tuple[Release, tuple[tuple[int, str], ...]]:
    """guessit plus year fixes; also returns bare episode numbers (value, raw digits)."""
    options: dict[str, Any] = {"episode_prefer_number": True}
    if title_hint:
        options["expected_title"] = [title_hint]
    guess = guessit(name, options)
    title, year = _title_and_year(name, guess)
    seasons = tuple(_as_list(guess.get("season")))
    episode_matches = guess.matches["episode"] if hasattr(guess, "matches") else []
    bare = (
        _bare_numbers(episode_matches)
        if not seasons and episode_matches and all("weak-episode" in m.tags for m in episode_matches)
        else ()
    )
    episodes = () if bare else tuple(_as_list(guess.get("episode")))
    other = {str(o).lower() for o in _as_list(guess.get("other"))}
    complete = "complete" in other
    is_tv = bool(seasons or episodes) or (complete and guess.get("type") == "episode")
    release = Release(
        name=name,
        title=title,
        year=year,
        type="tv" if is_tv else "movie",
        seasons=seasons,
        episodes=episodes,
        episode_title=_str_or_none(guess.get("episode_title")) if is_tv else None,
        complete=complete,
        is_sample="sample" in other or _is_sample_path(name),
        is_extra=is_sample_or_extra(name),
    )
    return release, bare


@functools.lru_cache(maxsize=1024)
def _movie_reparse(name: str) -> Release:
    guess = guessit(name, {"type": "movie"})
    title, year = _title_and_year(name, guess)
    other = {str(o).lower() for o in _as_list(guess.get("other"))}
    return Release(name=name, title=title, year=year, type="movie",
                   is_sample="sample" in other or _is_sample_path(name),
                   is_extra=is_sample_or_extra(name))


def _title_and_year(name: str, guess: Any) -> tuple[str | None, int | None]:
    """Undo guessit taking a title's number for the year ("1917", "2001 A Space Odyssey")."""
    title = _str_or_none(guess.get("title"))
    year = guess.get("year") if isinstance(guess.get("year"), int) else None
    if year is None:
        return title, None
    base = _basename(name)
    base = re.sub(r"^\s*\[[^\]]*\]\s*", "", base)
    if title is None:
        return str(year), None
    if base.startswith(str(year)) and not title.startswith(str(year)):
        return f"{year} {title}", None
    return title, year


def _bare_numbers(matches: Sequence[Any]) -> tuple[tuple[int, str], ...]:
    """Distinct weak episode numbers with their raw digits ("001" is also seen as "01")."""
    seen: dict[int, str] = {}
    for match in matches:
        raw = match.initiator.raw if match.initiator is not None else match.raw
        digits = re.sub(r"\D", "", str(raw)) or str(match.value)
        if isinstance(match.value, int) and match.value not in seen:
            seen[match.value] = digits
    return tuple(sorted(seen.items()))


def _splits_as_three_digit(bare: Sequence[tuple[int, str]]) -> bool:
    """`102` = S01E02: exactly three digits, no leading zero, episode part not 00."""
    return all(len(d) == 3 and not d.startswith("0") and n % 100 for n, d in bare)


def _is_sample_path(name: str) -> bool:
    return bool(_SAMPLE_WORD.search(name.replace("/", " ")))


def _basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return without_format_characters(str(value)).strip() or None


def _with(release: Release, **changes: Any) -> Release:
    return msgspec.structs.replace(release, **changes)
