"""Errors the engine raises; messages are sentences a user may see."""

from __future__ import annotations


class TorrentNotFound(LookupError):
    """The torrent is not (or no longer) in the engine."""


class MetadataPending(LookupError):
    """The torrent's file list is not known yet (its metadata is still being fetched)."""


class TorrentStartFailed(RuntimeError):
    """libtorrent refused the torrent, or did not confirm adding it in time."""
