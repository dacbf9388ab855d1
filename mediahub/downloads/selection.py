"""Which files of a torrent a library item wants, decided from the file list alone.

A movie wants its largest video; a show wants every episode video. Samples and extras are
skipped, text subtitles are kept (finalize turns them into WebVTT beside the video).
Pure functions: the download service turns the result into file priorities and rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import msgspec

from mediahub.metadata.release import (
    EpisodeFile,
    is_sample_or_extra,
    is_subtitle_file,
    is_video_file,
    map_episodes,
    parse_release,
)
from mediahub.torrents.models import TorrentFile


class NoVideo(ValueError):
    """The torrent holds no video file we could play."""


class Selection(msgspec.Struct, frozen=True):
    """What one item takes from a torrent."""

    movie: TorrentFile | None  # a movie's feature
    episodes: tuple[EpisodeFile, ...]  # a show's episodes
    subtitles: tuple[TorrentFile, ...]

    @property
    def wanted(self) -> set[int]:
        indexes = {file.index for file in self.subtitles} | {episode.file_index for episode in self.episodes}
        if self.movie is not None:
            indexes.add(self.movie.index)
        return indexes


def select(files: Sequence[TorrentFile], media_type: str, show_hint: str | None) -> Selection:
    """The files a movie or show item wants; NoVideo when there is none. Blocking for big
    packs (guessit): call it from a worker thread."""
    videos = [f for f in files if is_video_file(f.path)]
    if not videos:
        raise NoVideo("This torrent contains no video file.")
    # An empty file is nothing to play, and with no wanted byte libtorrent may never report
    # the download finished: it would sit at 'downloading' for ever.
    videos = [f for f in videos if f.size > 0]
    if not videos:
        raise NoVideo("This torrent's video file is empty (0 bytes).")
    subtitles = subtitle_files(files)
    if media_type == "movie":
        features = [f for f in videos if not is_sample_or_extra(f.path)] or videos
        return Selection(movie=max(features, key=lambda f: f.size), episodes=(), subtitles=subtitles)
    episodes = map_episodes([(f.index, f.path, f.size) for f in videos], show_hint) or _numbered_in_order(videos)
    return Selection(movie=None, episodes=tuple(episodes), subtitles=subtitles)


def subtitle_files(files: Sequence[TorrentFile]) -> tuple[TorrentFile, ...]:
    return tuple(f for f in files if is_subtitle_file(f.path) and not is_sample_or_extra(f.path))


def sidecars_for(video_path: str, episode: EpisodeFile | None, subtitles: Sequence[TorrentFile]) -> list[TorrentFile]:
    """The subtitle files that belong to one video: all of them for a movie; for an
    episode those named like its file or carrying its season and episode numbers."""
    if episode is None:
        return list(subtitles)
    stem = PurePosixPath(video_path).stem.lower()
    found = []
    for subtitle in subtitles:
        if PurePosixPath(subtitle.path).name.lower().startswith(stem):
            found.append(subtitle)
            continue
        parsed = parse_release(subtitle.path)
        if parsed.season == episode.season and parsed.episodes[:1] == episode.episodes[:1]:
            found.append(subtitle)
    return found


def _numbered_in_order(videos: Sequence[TorrentFile]) -> list[EpisodeFile]:
    """A show whose file names carry no numbers: its videos in name order are 1, 2, 3..."""
    features = sorted((f for f in videos if not is_sample_or_extra(f.path)), key=lambda f: f.path) or list(videos)
    return [
        EpisodeFile(file_index=f.index, path=f.path, size=f.size, season=1, episodes=(n,), absolute=True)
        for n, f in enumerate(features, 1)
    ]
