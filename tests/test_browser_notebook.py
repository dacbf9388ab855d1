"""A person opens the quickstart notebook: Voila serves it on 127.0.0.1, headless Chromium runs it.

The dashboard must render, its progress bar must climb to 100 % while the (throttled) swarm
delivers, and the preview `<video>` (from the kernel's own HTTP server, `?token=` in its URL)
must present real frames. A screenshot is kept in `test-artifacts/`.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.server_process import start_server
from tests.test_notebooks import kernel_env

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser

# Plays the element, then counts frames the compositor presents: a picture, not just a clock.
PLAY_AND_COUNT_FRAMES = """
async (video) => {
  video.muted = true;
  await video.play();
  const frames = await new Promise((resolve) => {
    let count = 0;
    const tick = () => { count += 1; if (count >= 10) resolve(count); else video.requestVideoFrameCallback(tick); };
    video.requestVideoFrameCallback(tick);
    setTimeout(() => resolve(count), 15000);
  });
  return {frames, width: video.videoWidth, height: video.videoHeight, time: video.currentTime,
          error: video.error ? video.error.code : null, src: video.currentSrc};
}
"""


def bar_percent(style: str | None) -> float:
    match = re.search(r"width:\s*([\d.]+)%", style or "")
    return float(match.group(1)) if match else 0.0


def watch_progress_bar(page, timeout: float = 120) -> list[float]:
    """The distinct widths the dashboard's first progress bar takes until it reaches 100 %."""
    bar = page.locator(".widget-hprogress .progress-bar").first
    bar.wait_for(state="attached", timeout=timeout * 1000)  # at 0 % it has no width to be "visible"
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while (value := bar_percent(bar.get_attribute("style"))) < 100:
        assert time.monotonic() < deadline, f"the progress bar stopped at {seen[-5:]}"
        if not seen or seen[-1] != value:
            seen.append(value)
        page.wait_for_timeout(100)  # sampling the DOM as a person's eye would, not synchronisation
    return [*seen, value]


def test_quickstart_in_a_real_browser(tmp_path, swarm, mp4_file):
    seed = swarm.seed({"Big.Buck.Bunny.2008.mp4": mp4_file}, piece_size=16 * 1024)
    seed.throttle(max(16 * 1024, seed.total_size // 8))  # about eight seconds: the bar visibly moves
    env = kernel_env(tmp_path, MEDIAHUB_DEMO_MAGNET=seed.magnet, MEDIAHUB_DEMO_TIMEOUT="120")
    voila = [
        str(Path(sys.executable).with_name("voila")),
        str(ROOT / "notebooks" / "quickstart.ipynb"),
        "--no-browser",
        "--port={port}",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=True",
        "--progressive_rendering=True",
        "--VoilaExecutor.timeout=180",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        start_server(voila, tmp_path / "data", env, health="/voila/static/voila.js") as page_server,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.goto(page_server.url + "/", timeout=120_000)
            seen = watch_progress_bar(page)
            assert seen[-1] == 100 and any(0 < value < 100 for value in seen), seen  # it moved while we watched
            page.get_by_text("Big Buck Bunny is ready").wait_for(timeout=60_000)
            video = page.locator("video").first
            video.wait_for(timeout=60_000)
            played = video.evaluate(PLAY_AND_COUNT_FRAMES)
        finally:  # the picture a person would have seen, also (especially) when something failed
            page.screenshot(path=str(ARTIFACTS / "quickstart-voila.png"), full_page=True)
            browser.close()
    assert "/stream?token=mh_" in played["src"]
    assert played["error"] is None
    assert (played["width"], played["height"]) == (320, 180)
    assert played["frames"] >= 10 and played["time"] > 0
