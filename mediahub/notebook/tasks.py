"""Lifetimes of widgets: the tasks a widget owns (cancelled together when it closes) and
closing a whole widget tree (ipywidgets' `close()` leaves a box's children open)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import ipywidgets as widgets

from mediahub.errors import MediahubError

log = logging.getLogger(__name__)


class TaskSet:
    """Tasks on the loop that was running when the widget was made (the kernel's).

    Button callbacks are plain functions; `spawn` turns their async work into a task the
    widget can cancel on close. A task's failure goes to `on_error` as a sentence for the
    user (a service's own message, or a short description of an unexpected error).
    """

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error
        self.closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None:
        """Run `coro` as a task of this widget; a closed widget starts nothing."""
        if self.closed:
            coro.close()
            return None
        task = self.loop.create_task(coro, name=f"mediahub-notebook:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        if isinstance(exc, MediahubError):
            self._on_error(exc.message)
        else:
            log.error("%s failed", task.get_name(), exc_info=exc)
            self._on_error(f"Something went wrong: {exc!r}")

    @property
    def pending(self) -> set[asyncio.Task[Any]]:
        return set(self._tasks)

    def cancel(self) -> None:
        self.closed = True
        for task in list(self._tasks):
            task.cancel()


def close_tree(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()
