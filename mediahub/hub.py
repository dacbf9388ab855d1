"""The Hub: one object that owns everything with a lifetime.

Settings, the database, the torrent engine, the event bus and the services hang off it,
every one of them there from the moment `Hub.open()` returns. The HTTP app, the CLI and
the notebook widgets are faces on the same Hub:

    async with Hub.open(settings) as hub:      # scripts and tests
        ...
    hub = await Hub.open()                      # a notebook's running loop
    await hub.client.post("/api/media", json={"magnetLink": "magnet:?xt=urn:btih:..."})
    await hub.close()

`hub.client` is the HTTP API in this process (as the owner, no token on the wire); the
services themselves are `hub.library`, `hub.downloads`, `hub.streaming`, `hub.enricher`,
`hub.profiles` and `hub.sessions`, and every item operation on them takes a `MediaRef` from
`hub.resolver`.
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

from mediahub.datadir import DataDirBusy, DataDirLock
from mediahub.db.database import Database
from mediahub.db.engine import close_database, open_database
from mediahub.downloads.service import Downloads
from mediahub.events import EventBus
from mediahub.library.media import Library
from mediahub.library.profiles import ProfileService
from mediahub.library.resolver import Resolver
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

Closer = Callable[[], Awaitable[Any]]


class Hub:
    """Built by `Hub.open()` from resources it opened; closing it closes them in reverse."""

    def __init__(
        self, settings: Settings, *, db: Database, engine: TorrentEngine, http: httpx.AsyncClient, closers: list[Closer]
    ) -> None:
        self.settings = settings
        self.db = db
        self.engine = engine  # the libtorrent session, reached by services as a TorrentClient
        self.http = http  # shared by TMDB and image fetches
        self.bus = EventBus()
        self.resolver = Resolver(db)
        self.profiles = ProfileService(db)
        self.sessions = SessionService(db, self.profiles, timedelta(days=settings.session_days))
        add_lock = asyncio.Lock()  # one add or show merge at a time: no twin items
        self.enricher = Enricher(db, settings, self.bus, http, add_lock=add_lock)
        self.streaming = Streaming(db, settings, engine)  # sources, transcode slots, finalize
        self.downloads = Downloads(
            db, self.bus, settings, engine, resolver=self.resolver, finalize=self.streaming.finalize,
            episodes_changed=self.enricher.episodes_changed,
        )  # fmt: skip
        self.library = Library(
            db, self.bus, resolver=self.resolver, profiles=self.profiles, downloads=self.downloads,
            enricher=self.enricher, images_dir=settings.images_dir, add_lock=add_lock,
        )  # fmt: skip
        self._closers = closers
        self.url: str | None = None  # set while `serve()` runs

    @classmethod
    def open(cls, settings: Settings | None = None) -> _Opening:
        """`await Hub.open()` or `async with Hub.open() as hub:`; settings default to the env."""
        return _Opening(settings or Settings.from_env())

    @property
    def default_profile_id(self) -> str:
        """The profile the owner acts as without X-Profile-Id."""
        return self.profiles.default_id

    async def _start(self) -> None:
        await self.profiles.bootstrap(self.settings.owner_token, self.settings.owner_token_file)
        await self.enricher.start()
        self._closers.append(self.enricher.close)
        self._closers.append(self.streaming.close)
        await self.downloads.start()
        self._closers.append(self.downloads.close)  # closes before the engine: closers run in reverse
        log.info("mediahub ready: data in %s", self.settings.data_dir)

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
        """Stop every service and resource in reverse start order; safe to call twice."""
        await _close(self._closers)


class _LoopServer(uvicorn.Server):
    """uvicorn inside someone else's loop: the host (a kernel, the CLI) owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _Opening:
    """Both an awaitable and an async context manager, so both idioms of `Hub.open` work."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._hub: Hub | None = None

    def __await__(self) -> Generator[Any, None, Hub]:
        return self._open().__await__()

    async def _open(self) -> Hub:
        """Open the data dir, the database, the HTTP client and the engine, then the services.
        On any failure what was opened is closed again, in reverse."""
        s, closers = self._settings, []
        try:
            private_dir(s.data_dir)
            for directory in (s.library_dir, s.downloads_dir, s.images_dir, s.state_dir):
                directory.mkdir(exist_ok=True)
            lock = DataDirLock(s.data_dir)
            try:
                await asyncio.to_thread(lock.acquire)  # before anything reads the data dir or starts the engine
            except DataDirBusy as exc:
                log.error("%s", exc.message)
                raise
            closers.append(lambda: asyncio.to_thread(lock.release))  # runs last
            db = await open_database(s.database_url)
            closers.append(lambda: close_database(db))
            http = httpx.AsyncClient(headers={"User-Agent": "mediahub"})
            closers.append(http.aclose)
            engine = TorrentEngine(s)
            await engine.start()
            closers.append(engine.close)
            self._hub = Hub(s, db=db, engine=engine, http=http, closers=closers)
            await self._hub._start()
        except BaseException:
            await _close(closers)
            raise
        return self._hub

    async def __aenter__(self) -> Hub:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        if self._hub is not None:
            await self._hub.close()


async def _close(closers: list[Closer]) -> None:
    """Run `closers` last first. A stuck part (a client that never hangs up, a wedged worker)
    must not keep the rest from closing: resume data and the database still get closed."""
    while closers:
        closer = closers.pop()
        try:
            await asyncio.wait_for(closer(), CLOSE_TIMEOUT)
        except TimeoutError:
            log.error("closing %r took over %s s; went on without it", closer, CLOSE_TIMEOUT)
        except Exception:
            log.exception("error while closing %r", closer)
