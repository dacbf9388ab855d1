"""BitTorrent: magnet parsing, the libtorrent engine, resume data and piece-aware readers.

    engine = TorrentEngine(settings); await engine.start()
    await engine.add(parse_magnet(link), save_path)            # idempotent, resumes from disk
    files = await engine.wait_metadata(infohash, timeout=30)  # sanitised paths
    engine.set_file_priorities(infohash, {files[0].index: 4})   # nothing downloads before this
    async with engine.subscribe(infohash) as events: ...        # MetadataReceived, PieceFinished, ...
    async with engine.open_file(infohash, index) as reader:     # streaming while downloading
        data = await reader.read(offset, 64 * 1024, timeout=10)
    await engine.close()                                        # saves resume data
"""

from mediahub.torrents.engine import TorrentEngine
from mediahub.torrents.errors import MetadataPending, TorrentNotFound
from mediahub.torrents.magnet import InvalidMagnet, Magnet, parse_magnet
from mediahub.torrents.models import TorrentEvent, TorrentFile, TorrentStatus
from mediahub.torrents.reader import FileReader

__all__ = [
    "FileReader",
    "InvalidMagnet",
    "Magnet",
    "MetadataPending",
    "TorrentEngine",
    "TorrentEvent",
    "TorrentFile",
    "TorrentNotFound",
    "TorrentStatus",
    "parse_magnet",
]
