// One item: artwork, facts, overview, download status (live), Play/Resume, pause/resume/retry
// of the download, delete with confirmation, and a show's seasons and episodes.

import { api, paths, watchProgress } from './api.js';
import {
  announce, clock, episodeLabel, errorLine, h, percent, poster, progressBar, runtimeText, statusText, watched,
} from './ui.js';

const LIVE = new Set(['added', 'downloading', 'completed']);

export async function showDetail(main, { params: [id], signal }) {
  let stopWatching = null;

  async function refresh(focus) {
    const item = await api(paths.media(id), { signal });
    const seasons = item.type === 'tv' ? await api(`${paths.media(id)}/seasons`, { signal }) : [];
    const view = render(item, seasons, { act, confirmDelete });
    main.replaceChildren(view.element);
    if (focus) main.querySelector(focus)?.focus();
    stopWatching?.();
    stopWatching = LIVE.has(item.status)
      ? watchProgress(id, (progress) => {
        if (progress.status !== item.status) refresh().catch(() => {});
        else view.progressed(progress);
      }, signal)
      : null;
  }

  async function act(action, done) {
    await api(`${paths.media(id)}/${action}`, { method: 'POST' });
    announce(done);
    await refresh('.download-action');
  }

  function confirmDelete(item, error) {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'delete-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'delete-title' }, `Delete “${item.title}”?`),
        h('p', {}, 'It leaves the library, and its downloaded files are deleted (unless another profile has them too).'),
        h('div', { class: 'actions' },
          h('button', { value: 'cancel', class: 'quiet' }, 'Cancel'),
          h('button', { value: 'delete', class: 'danger' }, 'Delete'))));
    main.append(dialog);
    dialog.addEventListener('close', async () => {
      dialog.remove();
      if (dialog.returnValue !== 'delete') return;
      try {
        await api(paths.media(id), { method: 'DELETE' });
        announce(`Deleted ${item.title}.`);
        location.hash = '#/';
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    dialog.showModal();
  }

  await refresh();
}

function render(item, seasons, { act, confirmDelete }) {
  const status = h('p', { class: 'status-line' });
  const bar = progressBar(item.progress, `${item.title}: download progress`);
  const error = errorLine('detail-error');
  const run = (action, done) => () => act(action, done).catch((failure) => { error.textContent = failure.message; });

  function progressed(view) {
    const parts = [statusText(view.status, view.progress)];
    if (view.status === 'downloading') {
      if (view.downloadSpeed) parts.push(`${rate(view.downloadSpeed)}`);
      if (view.peers !== undefined) parts.push(`${view.peers} ${view.peers === 1 ? 'peer' : 'peers'}`);
      if (view.eta) parts.push(`${clock(view.eta)} left`);
    }
    status.textContent = parts.join(' · ');
    bar.value = view.progress || 0;
    bar.hidden = view.status === 'ready';
  }
  progressed(item);

  const download = {
    added: ['Pause download', 'pause', 'Download paused.'],
    downloading: ['Pause download', 'pause', 'Download paused.'],
    paused: ['Resume download', 'resume', 'Download resumed.'],
    error: ['Retry download', 'retry', 'Download restarted.'],
  }[item.status];

  const element = h('div', { class: 'detail-page' },
    h('a', { class: 'back', href: '#/' }, '← Library'),
    h('article', { class: 'detail' },
      poster(item, 'poster detail-poster'),
      h('div', { class: 'detail-body' },
        h('h1', { tabindex: '-1' }, item.title),
        h('p', { class: 'facts' }, facts(item).join(' · ')),
        status,
        bar,
        item.error ? h('p', { class: 'error' }, `The download failed: ${item.error}`) : null,
        item.overview ? h('p', { class: 'overview' }, item.overview) : null,
        h('div', { class: 'actions' },
          playLink(item, seasons),
          download
            ? h('button', { type: 'button', class: 'download-action', onclick: run(download[1], download[2]) }, download[0])
            : null,
          h('button', { type: 'button', class: 'danger quiet', onclick: () => confirmDelete(item, error) }, 'Delete')),
        error)),
    item.type === 'tv' ? episodes(item, seasons) : null);
  return { element, progressed };
}

function facts(item) {
  const length = runtimeText(item.runtime) || (item.duration ? clock(item.duration) : null);
  const kind = item.type === 'tv'
    ? ['Show', item.seasonCount && `${item.seasonCount} ${item.seasonCount === 1 ? 'season' : 'seasons'}`,
      item.episodeCount && `${item.episodeCount} episodes`]
    : ['Movie'];
  return [item.year, length, ...kind, item.certification, item.genres?.length ? item.genres.join(', ') : null]
    .filter(Boolean).map(String);
}

// "Play" or "Resume from 12:34": a movie from its saved position, a show at its next episode
// (the first one not yet watched).
function playLink(item, seasons) {
  if (item.status === 'error') return null;
  if (item.type !== 'tv') {
    const resume = item.playPosition > 0 && !watched(item.playPosition, item.playDuration);
    return h('a', { class: 'button primary play', href: `#/watch/${item.id}` },
      resume ? `Resume from ${clock(item.playPosition)}` : 'Play');
  }
  const all = seasons.flatMap((season) => season.episodes.map((episode) => ({ season, episode })));
  const next = all.find(({ episode }) => !watched(episode.playPosition, episode.playDuration)) || all[0];
  if (!next) return null;
  const label = episodeLabel(next.season.seasonNumber, next.episode.episodeNumber);
  return h('a', { class: 'button primary play', href: `#/watch/${item.id}/${next.episode.id}` },
    next.episode.playPosition > 0 ? `Resume ${label} from ${clock(next.episode.playPosition)}` : `Play ${label}`);
}

function episodes(item, seasons) {
  if (!seasons.length) {
    return h('section', { class: 'seasons' },
      h('h2', {}, 'Episodes'),
      h('p', { class: 'empty' }, 'The episodes appear here once the download’s files are known.'));
  }
  return h('section', { class: 'seasons', 'aria-label': 'Seasons and episodes' },
    seasons.map((season) => h('div', { class: 'season' },
      h('h2', {}, season.name || `Season ${season.seasonNumber}`),
      h('ol', { class: 'episodes' }, season.episodes.map((episode) => episodeRow(item, season, episode))))));
}

function episodeRow(item, season, episode) {
  const label = episodeLabel(season.seasonNumber, episode.episodeNumber);
  const done = watched(episode.playPosition, episode.playDuration);
  const started = episode.playPosition > 0 && !done;
  const seen = episode.playDuration ? (100 * episode.playPosition) / episode.playDuration : 0;
  return h('li', { class: 'episode' },
    h('span', { class: 'episode-number' }, label),
    h('span', { class: 'episode-title' }, episode.title || `Episode ${episode.episodeNumber}`),
    h('span', { class: 'episode-status', 'data-status': episode.status }, statusText(episode.status, episode.progress)),
    episode.status === 'ready' ? null : progressBar(episode.progress, `${label}: download progress`),
    done ? h('span', { class: 'watched' }, '✓ Watched') : null,
    started ? progressBar(seen, `${label}: watched ${percent(seen)}`) : null,
    h('a', { class: 'button', href: `#/watch/${item.id}/${episode.id}` },
      started ? `Resume ${label} from ${clock(episode.playPosition)}` : `Play ${label}`));
}

function rate(bytesPerSecond) {
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s'];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
