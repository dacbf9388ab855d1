// The player: a <video> on the direct file or on the HLS master playlist, resuming from the
// saved position and saving it as it goes.
//
// Which source: HEAD /stream first. `Accept-Ranges: bytes` means the server serves the file as
// it is (every ready item's library file, and a downloading MP4/WebM a browser decodes): the
// cheapest path, and the browser seeks it by itself with range requests. Anything else would
// be a live transmux without a timeline, so it plays through HLS, which has the whole timeline
// and seeks anywhere while the file downloads. HLS is native where the browser has it
// (Safari, Chromium 156+) and hls.js (vendored, loaded only then) otherwise. The cookie
// authenticates every request of the element; no token is ever put in a URL.

import { api, messageOf, paths } from './api.js';
import { episodeLabel, h, watched } from './ui.js';

const SAVE_EVERY_MS = 10_000;
const SEEK_STEP_S = 10;
const RETRIES = 3; // failed loads in a row before the error is shown
const HLS_TYPE = 'application/vnd.apple.mpegurl';
const HLS_JS = '/static/vendor/hls.js-1.7.4/hls.min.mjs';

export async function showPlayer(main, { params: [id, requestedEpisode], signal }) {
  const item = await api(paths.media(id), { signal });
  const episodes = item.type === 'tv' ? await episodeList(id, signal) : [];
  const current = episodes.find(({ episode }) => episode.id === requestedEpisode) || episodes[0];
  if (item.type === 'tv' && !current) throw new Error('This show has no episodes yet: they appear once its files are known.');
  const episodeId = current?.episode.id;
  const next = episodes[episodes.indexOf(current) + 1];
  const query = episodeId ? `?episodeId=${encodeURIComponent(episodeId)}` : '';
  const saved = await api(`${paths.media(id)}/position${query}`, { signal });

  const title = current
    ? `${item.title} · ${episodeLabel(current.season.seasonNumber, current.episode.episodeNumber)}`
      + (current.episode.title ? ` · ${current.episode.title}` : '')
    : item.title;
  const video = h('video', {
    controls: true, playsInline: true, preload: 'auto', 'aria-label': title,
    'aria-keyshortcuts': 'Space ArrowLeft ArrowRight F',
  });
  const notice = h('p', { class: 'player-notice', role: 'status', hidden: true });
  const stage = h('div', { class: 'stage' }, video, notice);
  const subtitles = h('select', { id: 'subtitles', onchange: chooseSubtitles });
  const nextButton = next
    ? h('button', { type: 'button', class: 'primary', onclick: () => { location.hash = `#/watch/${id}/${next.episode.id}`; } },
      'Next episode')
    : null;
  main.append(h('div', { class: 'player' },
    h('div', { class: 'player-head' },
      h('a', { class: 'back', href: `#/media/${id}` }, '← Details'),
      h('h1', { tabindex: '-1' }, title)),
    stage,
    h('div', { class: 'player-bar' },
      h('label', { for: 'subtitles', class: 'inline' }, 'Subtitles'), subtitles,
      nextButton,
      h('p', { class: 'keys muted' }, 'Keys: Space play/pause · ← → 10 s · F fullscreen'))));

  // --- saving the position --------------------------------------------------------------
  const positionUrl = `${paths.media(id)}/position`;
  let started = false; // playing from the resume point: from now on positions are real
  let lastSaved = saved.position;
  const body = () => JSON.stringify({
    position: video.currentTime,
    duration: Number.isFinite(video.duration) ? video.duration : null,
    ...(episodeId ? { episodeId } : {}),
  });
  const due = () => started && video.currentTime > 0 && Math.abs(video.currentTime - lastSaved) >= 0.5;
  function save() {
    if (!due()) return;
    lastSaved = video.currentTime;
    fetch(positionUrl, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: body(), keepalive: true })
      .catch(() => {}); // offline for a moment: the next save catches up
  }
  function saveOnLeaving() { // a page being unloaded finishes no fetch, but it sends a beacon
    if (!due()) return;
    lastSaved = video.currentTime;
    navigator.sendBeacon(positionUrl, body()); // text/plain JSON, which the POST route accepts
  }
  const timer = setInterval(() => { if (!video.paused) save(); }, SAVE_EVERY_MS);
  video.addEventListener('pause', save);
  const hidden = () => { if (document.visibilityState === 'hidden') saveOnLeaving(); };
  window.addEventListener('pagehide', saveOnLeaving);
  document.addEventListener('visibilitychange', hidden);

  // --- loading, with "Waiting for peers" while the server answers 202 --------------------
  let hls = null;
  let failures = 0;
  let begin = null; // what the current load does once the metadata is in: seek, play
  const resumeAt = saved.position > 0 && !watched(saved.position, saved.duration) ? saved.position : 0;

  async function load(at) {
    const source = await chooseSource(id, query, notice, signal);
    hls?.destroy();
    hls = null;
    video.replaceChildren();
    if (source.hls && !video.canPlayType(HLS_TYPE)) {
      const { default: Hls } = await import(HLS_JS);
      hls = new Hls({ startPosition: at });
      hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) failed(data.details); });
      hls.loadSource(source.url);
      hls.attachMedia(video);
    } else {
      video.src = source.url;
      if (!source.hls) addSubtitleTracks(id, query, video, signal);
    }
    video.removeEventListener('loadedmetadata', begin);
    begin = () => {
      if (at > 0 && Math.abs(video.currentTime - at) > 1) video.currentTime = at;
      video.play().catch(() => say('Press play to start.'));
    };
    video.addEventListener('loadedmetadata', begin, { once: true });
  }

  async function failed(reason) {
    if (signal.aborted) return;
    failures += 1;
    if (failures > RETRIES) {
      say(`This video cannot be played: ${reason}`);
      return;
    }
    const at = video.currentTime || resumeAt;
    await sleep(1000, signal);
    load(at).catch(showError);
  }

  function showError(error) {
    if (!signal.aborted) say(error.message);
  }

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  video.addEventListener('error', () => failed(video.error?.message || 'the browser could not decode it'));
  video.addEventListener('playing', () => {
    started = true;
    failures = 0;
    say('');
  });
  video.addEventListener('ended', () => nextButton?.focus());
  video.textTracks.addEventListener('addtrack', listSubtitles);
  video.textTracks.addEventListener('removetrack', listSubtitles);
  listSubtitles();

  // --- keys ------------------------------------------------------------------------------
  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest('input, select, textarea')) return;
    if (event.key === ' ' && !event.target.closest('button, a')) {
      if (video.paused) video.play().catch(() => {});
      else video.pause();
    } else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      const step = event.key === 'ArrowLeft' ? -SEEK_STEP_S : SEEK_STEP_S;
      const end = Number.isFinite(video.duration) ? video.duration : Infinity;
      video.currentTime = Math.min(end, Math.max(0, video.currentTime + step));
    } else if (event.key === 'f' || event.key === 'F') {
      const toggled = document.fullscreenElement ? document.exitFullscreen() : stage.requestFullscreen();
      toggled.catch(() => {});
    } else {
      return;
    }
    event.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  signal.addEventListener('abort', () => {
    saveOnLeaving();
    clearInterval(timer);
    window.removeEventListener('pagehide', saveOnLeaving);
    document.removeEventListener('visibilitychange', hidden);
    document.removeEventListener('keydown', onKey);
    hls?.destroy();
    video.removeAttribute('src');
    video.load(); // drop the connection now, not when the element is collected
  });

  // --- subtitles ---------------------------------------------------------------------------
  function textTracks() {
    return [...video.textTracks].filter((track) => track.kind === 'subtitles' || track.kind === 'captions');
  }

  function listSubtitles() {
    const tracks = textTracks();
    subtitles.replaceChildren(
      h('option', { value: '' }, tracks.length ? 'Off' : 'None available'),
      ...tracks.map((track, index) => h('option', { value: String(index), selected: track.mode === 'showing' },
        track.label || track.language || `Track ${index + 1}`)),
    );
    subtitles.disabled = tracks.length === 0;
  }

  function chooseSubtitles() {
    textTracks().forEach((track, index) => {
      track.mode = String(index) === subtitles.value ? 'showing' : 'disabled';
    });
  }

  await load(resumeAt).catch(showError);
}

// Every episode of a show in order, with its season.
async function episodeList(id, signal) {
  const seasons = await api(`${paths.media(id)}/seasons`, { signal });
  return seasons.flatMap((season) => season.episodes.map((episode) => ({ season, episode })));
}

// Ask until the server can serve: direct (ranges) or HLS; "Waiting for peers… n %" meanwhile.
async function chooseSource(id, query, notice, signal) {
  const stream = `${paths.media(id)}/stream${query}`;
  for (;;) {
    const head = await fetch(stream, { method: 'HEAD', signal });
    if (head.status === 202) {
      const progress = await api(`${paths.media(id)}/progress`, { signal });
      await waitForPeers(notice, progress.progress, head, signal);
      continue;
    }
    if (!head.ok) {
      throw new Error(head.status === 503 ? 'This video cannot be played now: the download failed or the server is busy.'
        : `This video cannot be played (the server answered ${head.status}).`);
    }
    if (head.headers.get('accept-ranges') === 'bytes') return { url: stream, hls: false };
    break;
  }
  const master = `${paths.media(id)}/hls/master.m3u8${query}`;
  for (;;) {
    const answer = await fetch(master, { signal });
    if (answer.status === 202) {
      await waitForPeers(notice, (await answer.json()).progress, answer, signal);
      continue;
    }
    if (!answer.ok) throw new Error(await messageOf(answer));
    return { url: master, hls: true };
  }
}

async function waitForPeers(notice, progress, answer, signal) {
  notice.textContent = `Waiting for peers… ${Math.floor(progress || 0)} %`;
  notice.hidden = false;
  await sleep(1000 * (Number(answer.headers.get('retry-after')) || 2), signal);
}

// Sidecar and embedded text tracks of a direct file, as <track>s (HLS lists its own).
async function addSubtitleTracks(id, query, video, signal) {
  let tracks = [];
  try {
    tracks = await api(`${paths.media(id)}/subtitles${query}`, { signal });
  } catch {
    return; // no subtitles to offer: the menu says so
  }
  for (const track of tracks) {
    video.append(h('track', {
      kind: 'subtitles', src: track.src, label: track.label, srclang: track.language || undefined, default: track.isDefault,
    }));
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('Left the page', 'AbortError'));
    }, { once: true });
  });
}
