// Small DOM helpers shared by the views: element building, posters, progress, time.

// h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child) -> element.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name in element && !name.includes('-')) element[name] = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

// Our cached TMDB artwork, else a placeholder drawn from the title. Only /api/images URLs are
// used: the page loads nothing from other hosts (its CSP says so), and works offline.
export function poster(item, className = 'poster') {
  const box = h('div', { class: className });
  if (item.posterUrl && item.posterUrl.startsWith('/api/images/')) {
    box.append(h('img', { src: item.posterUrl, alt: '', loading: 'lazy', decoding: 'async' }));
  } else {
    box.classList.add('placeholder');
    box.style.setProperty('--hue', String(hue(item.title)));
    box.append(h('span', { 'aria-hidden': 'true' }, item.title));
  }
  return box;
}

function hue(text) {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

export function progressBar(value, label) {
  return h('progress', { max: 100, value: Math.max(0, Math.min(100, value || 0)), 'aria-label': label });
}

const STATUS_WORDS = {
  added: 'Waiting for metadata',
  downloading: 'Downloading',
  completed: 'Preparing',
  ready: 'Ready',
  paused: 'Paused',
  error: 'Failed',
};

export function statusText(status, progress) {
  const word = STATUS_WORDS[status] || status;
  return status === 'downloading' || status === 'paused' ? `${word} ${percent(progress)}` : word;
}

export function percent(value) {
  return `${Math.floor(value || 0)}\u00a0%`; // no line break before the sign
}

// 75.5 -> "1:15", 3725 -> "1:02:05".
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const [hours, minutes, secs] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const mm = hours ? String(minutes).padStart(2, '0') : String(minutes);
  return `${hours ? `${hours}:` : ''}${mm}:${String(secs).padStart(2, '0')}`;
}

// Minutes -> "1 h 42 min".
export function runtimeText(minutes) {
  if (!minutes) return null;
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

export function episodeLabel(season, episode) {
  return `S${season} E${episode}`;
}

// A finished item: 90 % or more watched, as the server's continue-watching rule.
export function watched(position, duration) {
  return Boolean(duration) && position >= 0.9 * duration;
}

// Say something to screen-reader users (the page's one polite live region).
export function announce(text) {
  const region = document.getElementById('announce');
  region.textContent = '';
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

export function errorLine(id) {
  return h('p', { class: 'error', id, role: 'alert' });
}
