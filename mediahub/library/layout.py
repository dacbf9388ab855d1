"""Where finished files live in the library, Plex/Jellyfin style:

    library/movies/Title (Year)/Title (Year).ext
    library/tv/Show (Year)/Season 01/Show - S01E02 - Episode Title.ext

Names come from titles that users and TMDB supply, so every component goes through
`safe_name`. API responses carry *virtual* paths rooted at the library
("/library/movies/..."), never host paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from mediahub.torrents.paths import join_inside, safe_name

VIRTUAL_ROOT = PurePosixPath("/library")


def movie_file(title: str, year: int | None, suffix: str) -> PurePosixPath:
    """Relative to the library root."""
    name = _titled(title, year)
    return PurePosixPath("movies", name, name + suffix)


def episode_file(
    show: str, year: int | None, season: int, episodes: Sequence[int], episode_title: str | None, suffix: str
) -> PurePosixPath:
    """Relative to the library root; several episodes in one file read `S01E01-E02`."""
    numbers = f"S{season:02d}" + "-".join(f"E{n:02d}" for n in sorted(episodes))
    show_name = safe_name(show) or "Unknown show"
    name = f"{show_name} - {numbers}"
    if episode_title and (title := safe_name(episode_title)):
        name += f" - {title}"
    return PurePosixPath("tv", _titled(show, year), f"Season {season:02d}", safe_name(name + suffix) or numbers + suffix)


def virtual(relative: PurePosixPath) -> str:
    return str(VIRTUAL_ROOT / relative)


def host_path(library_dir: Path, virtual_path: str) -> Path:
    """The host path of a virtual library path; refuses anything outside the library."""
    relative = PurePosixPath(virtual_path).relative_to(VIRTUAL_ROOT)
    return join_inside(library_dir, relative)


def _titled(title: str, year: int | None) -> str:
    name = safe_name(title) or "Untitled"
    return f"{name} ({year})" if year else name
