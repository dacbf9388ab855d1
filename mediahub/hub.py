"""The Hub: one object that owns everything with a lifetime.

Settings, the database engine, the event bus and the services hang off it. The HTTP app and
the notebook widgets are two thin faces on the same Hub:

    async with Hub.open(settings) as hub:      # scripts and tests
        ...
    hub = await Hub.open()                      # a notebook's running loop
    await hub.library.add(magnet_link="magnet:?xt=urn:btih:...")
    await hub.client.get("/api/media")          # the HTTP API in-process, as the owner
    await hub.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Generator
from datetime import timedelta
from functools import cached_property
from typing import Any

import httpx
import uvicorn
from piccolo.engine.base import Engine

from mediahub.datadir import DataDirBusy, DataDirLock
from mediahub.db.engine import close_database, open_database
from mediahub.db.tables import Media
from mediahub.events import EventBus
from mediahub.library.downloads import Downloads
from mediahub.library.media import Library
from mediahub.library.profiles import Actor, ProfileService
from mediahub.library.sessions import SessionService
from mediahub.metadata.enrich import Enricher
from mediahub.private import private_dir
from mediahub.settings import Settings
from mediahub.streaming.service import Streaming
from mediahub.torrents.engine import TorrentEngine

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 20.0  # seconds one part may take to close
KEEP_ALIVE_S = 75  # idle keep-alive of `serve()` connections, as nginx's default

_WILDCARD_TO_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}


class Hub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.profiles = ProfileService()
        self.sessions = SessionService(self.profiles, timedelta(days=settings.session_days))  # the web app's sign-ins
        self.db: Engine | None = None
        self.http: httpx.AsyncClient | None = None  # shared by TMDB and image fetches
        self.enricher: Enricher | None = None
        self.engine: TorrentEngine | None = None  # the libtorrent session
        self.downloads: Downloads | None = None  # library items <-> torrents
        self.streaming: Streaming | None = None  # stream sources, transcode slots, finalize
        self.default_profile_id: str = ""
        self._add_lock = asyncio.Lock()
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.url: str | None = None  # set while `serve()` runs

    @classmethod
    def open(cls, settings: Settings | None = None) -> _Opening:
        """`await Hub.open()` or `async with Hub.open() as hub:`; settings default to the env."""
        return _Opening(cls(settings or Settings.from_env()))

    async def start(self) -> None:
        s = self.settings
        private_dir(s.data_dir)
        for directory in (s.library_dir, s.downloads_dir, s.images_dir, s.state_dir):
            directory.mkdir(exist_ok=True)
        lock = DataDirLock(s.data_dir)
        try:
            await asyncio.to_thread(lock.acquire)  # before anything reads the data dir or starts the engine
        except DataDirBusy as exc:
            log.error("%s", exc.message)
            raise
        self._closers.append(lambda: asyncio.to_thread(lock.release))  # runs last
        self.db = await open_database(s.database_url)
        self._closers.append(lambda: close_database(self.db))
        await self.profiles.bootstrap(s.owner_token, s.owner_token_file)
        self.default_profile_id = (await self.profiles.authenticate_owner()).profile_id
        self.http = httpx.AsyncClient(headers={"User-Agent": "mediahub"})
        self._closers.append(self.http.aclose)
        self.enricher = Enricher(s, self.bus, self.http, add_lock=self._add_lock)
        await self.enricher.start()
        self._closers.append(self.enricher.close)
        self.engine = TorrentEngine(s)
        await self.engine.start()
        self._closers.append(self.engine.close)  # after the downloads service: closers run in reverse
        self.streaming = Streaming(s, self.engine)
        self._closers.append(self.streaming.close)
        self.downloads = Downloads(s, self.bus, self.engine, finalize=self.streaming.finalize)
        await self.downloads.start()
        self._closers.append(self.downloads.close)
        log.info("mediahub ready: data in %s", s.data_dir)

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Also serve the HTTP API from this process, in the running loop; returns its URL.

        For notebooks (a `<video>` preview needs a URL) and the CLI. `port=0` picks a free
        port. The server stops with `close()`.
        """
        from mediahub.api.app import create_app  # the app imports the Hub: import late

        if self.url is not None:
            raise RuntimeError(f"This hub already serves {self.url}.")
        config = uvicorn.Config(
            create_app(self),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=3,
            # Longer than clients' idle expiry (httpx: 5 s, browsers: more), so a client never
            # reuses a connection at the moment the server closes it.
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        # Bind here, not in uvicorn: its bind error is a `sys.exit`, which would stop the loop.
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        server = _LoopServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="mediahub-http")
        while not server.started:  # startup takes a few loop turns
            if task.done():
                sock.close()
                raise RuntimeError(f"The HTTP server did not start: {task.exception()!r}")
            await asyncio.sleep(0.01)
        bound_port = sock.getsockname()[1]
        url_host = _WILDCARD_TO_LOOPBACK.get(host) or (f"[{host}]" if ":" in host else host)
        self.url = f"http://{url_host}:{bound_port}"

        async def stop() -> None:
            server.should_exit = True
            await task
            self.url = None

        self._closers.append(stop)
        log.info("mediahub HTTP API on %s", self.url)
        return self.url

    @cached_property
    def client(self) -> httpx.AsyncClient:
        """The HTTP API in this process, without a server or a token (`mediahub.api.client`).

        `await hub.client.post("/api/media", json={"magnetLink": ...})` acts as the owner;
        add `headers={"X-Profile-Id": id}` to act as another profile. Closed with the hub.
        """
        from mediahub.api.app import create_app  # the app imports the Hub: import late
        from mediahub.api.client import in_process_client

        client = in_process_client(create_app(self))
        self._closers.append(client.aclose)
        return client

    async def close(self) -> None:
        """Stop every service in reverse start order; safe to call twice."""
        while self._closers:
            closer = self._closers.pop()
            try:
                # A stuck part (a client that never hangs up, a wedged worker) must not keep
                # the rest from closing: resume data and the database still get closed.
                await asyncio.wait_for(closer(), CLOSE_TIMEOUT)
            except TimeoutError:
                log.error("closing %r took over %s s; went on without it", closer, CLOSE_TIMEOUT)
            except Exception:
                log.exception("error while closing %r", closer)

    def library_for(self, profile_id: str) -> Library:
        """The library of one profile; every call on it is scoped to that profile."""
        return Library(
            profile_id,
            bus=self.bus,
            images_dir=self.settings.images_dir,
            add_lock=self._add_lock,
            find_show=self.enricher.find_show if self.enricher else None,
            live_status=self.engine.status if self.engine else None,
        )

    @property
    def library(self) -> Library:
        """The default profile's library, for notebooks and scripts."""
        return self.library_for(self.default_profile_id)

    async def delete_profile(self, actor: Actor, profile_id: str) -> None:
        """Delete a profile with its media; shared downloads survive for the others."""
        await self.profiles.check_deletable(actor, profile_id)
        library = self.library_for(profile_id)
        for row in await Media.select(Media.id).where(Media.profile == profile_id):
            await library.delete(row["id"])
        await self.profiles.delete(profile_id)
        if profile_id == self.default_profile_id:
            self.default_profile_id = (await self.profiles.authenticate_owner()).profile_id


class _LoopServer(uvicorn.Server):
    """uvicorn inside someone else's loop: the host (a kernel, the CLI) owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _Opening:
    """Both an awaitable and an async context manager, so both idioms of `Hub.open` work."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def __await__(self) -> Generator[Any, None, Hub]:
        return self._start().__await__()

    async def _start(self) -> Hub:
        try:
            await self._hub.start()
        except BaseException:
            await self._hub.close()
            raise
        return self._hub

    async def __aenter__(self) -> Hub:
        return await self._start()

    async def __aexit__(self, *exc: object) -> None:
        await self._hub.close()
