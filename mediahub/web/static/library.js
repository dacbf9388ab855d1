// The library: Add a magnet, "Continue watching", and the poster grid with search and a
// movies/shows filter. Active downloads update live over server-sent events (a few at a
// time: each EventSource holds one of the browser's ~6 connections to this server, which
// the player needs too); any others are refreshed by polling the list.

import { api, paths, watchProgress } from './api.js';
import { announce, clock, episodeLabel, errorLine, h, percent, poster, progressBar, statusText } from './ui.js';

const LIVE = new Set(['added', 'downloading', 'completed']);
const MAX_STREAMS = 3;
const POLL_MS = 5000;

export async function showLibrary(main, { signal }) {
  const [items, resume] = await Promise.all([
    api('/api/media', { signal }),
    api('/api/media/continue-watching', { signal }),
  ]);
  const cards = new Map(); // id -> {element, update(view)}
  const streams = new Map(); // id -> close()

  const addForm = addSection(async (item) => {
    if (!items.some((known) => known.id === item.id)) items.unshift(item);
    else announce(`${item.title} is already in your library.`);
    render();
    cards.get(item.id)?.element.querySelector('a').focus();
  });

  const search = h('input', { id: 'search', type: 'search', autocomplete: 'off', oninput: render });
  const types = [['', 'All'], ['movie', 'Movies'], ['tv', 'Shows']].map(([value, label]) =>
    h('label', { class: 'segment' },
      h('input', { type: 'radio', name: 'type', value, checked: value === '', onchange: render }), label));
  const grid = h('ul', { class: 'grid', 'aria-labelledby': 'library-heading' });
  const empty = h('p', { class: 'empty', hidden: true });

  main.append(...[
    h('h1', { class: 'visually-hidden', tabindex: '-1' }, 'Library'),
    addForm,
    resume.length ? continueSection(resume) : null,
    h('section', { class: 'library', 'aria-labelledby': 'library-heading' },
      h('div', { class: 'section-head' },
        h('h2', { id: 'library-heading' }, 'All titles'),
        h('div', { class: 'tools' },
          h('label', { for: 'search', class: 'inline' }, 'Search'), search,
          h('fieldset', { class: 'segmented' }, h('legend', { class: 'visually-hidden' }, 'Show'), types))),
      grid,
      empty),
  ].filter(Boolean));
  render();

  function render() {
    const query = search.value.trim().toLowerCase();
    const type = types.map((label) => label.querySelector('input')).find((input) => input.checked).value;
    const shown = items.filter((item) => (!type || item.type === type) && item.title.toLowerCase().includes(query));
    cards.clear();
    grid.replaceChildren(...shown.map((item) => {
      const card = libraryCard(item);
      cards.set(item.id, card);
      return card.element;
    }));
    empty.hidden = shown.length > 0;
    empty.textContent = items.length === 0
      ? 'Nothing here yet. Paste a magnet link above and press Add.'
      : `No ${type === 'movie' ? 'movies' : type === 'tv' ? 'shows' : 'titles'} match “${search.value.trim()}”.`;
    follow();
  }

  // Open event streams for live items (up to MAX_STREAMS); the rest wait for the poll.
  function follow() {
    for (const item of items) {
      if (!LIVE.has(item.status) || streams.has(item.id) || streams.size >= MAX_STREAMS) continue;
      streams.set(item.id, watchProgress(item.id, (view) => progressed(item, view), signal));
    }
  }

  async function progressed(item, view) {
    const changed = view.status !== item.status;
    Object.assign(item, { status: view.status, progress: view.progress });
    if (!LIVE.has(view.status)) {
      streams.get(item.id)?.();
      streams.delete(item.id);
    }
    if (changed) { // metadata may have come with it: title, year, poster
      try {
        Object.assign(item, pick(await api(paths.media(item.id), { signal })), { status: view.status });
      } catch {
        if (signal.aborted) return; // else keep what we know (deleted elsewhere, or offline)
      }
      announce(`${item.title}: ${statusText(view.status, view.progress)}.`);
      render();
    } else {
      cards.get(item.id)?.update(item);
    }
  }

  const poll = setInterval(async () => {
    if (!items.some((item) => LIVE.has(item.status) && !streams.has(item.id))) return;
    let fresh;
    try {
      fresh = new Map((await api('/api/media', { signal })).map((item) => [item.id, item]));
    } catch {
      return; // offline for a moment: the next poll tries again
    }
    for (const item of items) {
      const now = fresh.get(item.id);
      if (now && !streams.has(item.id)) progressed(item, now);
    }
  }, POLL_MS);
  signal.addEventListener('abort', () => clearInterval(poll));
}

function pick(detail) {
  const { id, type, title, year, status, progress, tmdbId, posterUrl, runtime, addedAt } = detail;
  return { id, type, title, year, status, progress, tmdbId, posterUrl, runtime, addedAt };
}

function addSection(onAdded) {
  const input = h('input', {
    id: 'magnet', name: 'magnet', type: 'text', inputMode: 'url', required: true, autocomplete: 'off',
    spellcheck: false, placeholder: 'magnet:?xt=urn:btih:…', 'aria-describedby': 'add-error',
  });
  const error = errorLine('add-error');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Add');
  return h('form', { class: 'add', onsubmit: submit },
    h('label', { for: 'magnet' }, 'Magnet link'),
    h('div', { class: 'add-row' }, input, button),
    error);

  async function submit(event) {
    event.preventDefault();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    button.disabled = true;
    try {
      const item = await api('/api/media', { method: 'POST', body: { magnetLink: input.value.trim() } });
      input.value = '';
      announce(`Added ${item.title}.`);
      await onAdded(pick(item));
    } catch (failure) {
      error.textContent = failure.message;
      input.setAttribute('aria-invalid', 'true');
    } finally {
      button.disabled = false;
    }
  }
}

function continueSection(resume) {
  return h('section', { class: 'continue', 'aria-labelledby': 'continue-heading' },
    h('h2', { id: 'continue-heading' }, 'Continue watching'),
    h('ul', { class: 'row' }, resume.map((item) => {
      const target = item.episodeId ? `#/watch/${item.id}/${item.episodeId}` : `#/watch/${item.id}`;
      const watchedPercent = item.playDuration ? (100 * item.playPosition) / item.playDuration : 0;
      const where = item.episodeId
        ? `${episodeLabel(item.seasonNumber, item.episodeNumber)}${item.episodeTitle ? ` · ${item.episodeTitle}` : ''}`
        : null;
      const left = item.playDuration ? `${clock(item.playDuration - item.playPosition)} left` : `at ${clock(item.playPosition)}`;
      return h('li', { class: 'card' },
        h('a', { class: 'card-link', href: target }, poster(item, 'poster wide'), h('span', { class: 'card-title' }, item.title)),
        h('p', { class: 'card-meta' }, where ? `${where} · ${left}` : left),
        progressBar(watchedPercent, `${item.title}: watched ${percent(watchedPercent)}`));
    })));
}

function libraryCard(item) {
  const status = h('span', { class: 'status' });
  const bar = progressBar(0, `${item.title}: download progress`);
  const element = h('li', { class: 'card', 'data-id': item.id },
    h('a', { class: 'card-link', href: `#/media/${item.id}` }, poster(item), h('span', { class: 'card-title' }, item.title)),
    h('p', { class: 'card-meta' }, item.year ? `${item.year} · ` : '', item.type === 'tv' ? 'Show · ' : '', status),
    bar);
  function update(now) {
    status.textContent = statusText(now.status, now.progress);
    status.dataset.status = now.status;
    bar.value = now.progress || 0;
    bar.hidden = now.status === 'ready';
  }
  update(item);
  return { element, update };
}
