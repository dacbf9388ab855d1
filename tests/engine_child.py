"""A torrent engine in its own process, for the SIGKILL test: `python -m tests.engine_child
DATA_DIR SAVE_PATH MAGNET` downloads every file and prints its progress (0-100) per line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mediahub.settings import Settings
from mediahub.torrents.engine import TorrentEngine
from mediahub.torrents.magnet import parse_magnet
from mediahub.torrents.models import StatusUpdated


async def main(data_dir: str, save_path: str, link: str) -> None:
    settings = Settings(
        data_dir=Path(data_dir), torrent_listen="127.0.0.1:0", torrent_dht=False, torrent_lsd=False, torrent_upnp=False,
        magnet_hosts=("127.0.0.1",),
    )
    magnet = parse_magnet(link)
    async with TorrentEngine(settings) as engine, engine.subscribe(magnet.infohash, (StatusUpdated,)) as events:
        await engine.add(magnet, Path(save_path))
        files = await engine.wait_metadata(magnet.infohash, timeout=10)
        engine.set_file_priorities(magnet.infohash, {f.index: 4 for f in files})
        async for event in events:
            print(event.status.progress, flush=True)  # type: ignore[union-attr]


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
