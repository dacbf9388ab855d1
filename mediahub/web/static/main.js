// The app shell: sign-in state, the top bar (profile, sign out) and the hash router.
// Views are functions (main, context) that fill `main`; the context's AbortSignal fires when
// the user leaves the view, so it closes its event streams, timers and players.

import { api, whenSignedOut } from './api.js';
import { showDetail } from './detail.js';
import { showLibrary } from './library.js';
import { showPlayer } from './player.js';
import { showProfiles } from './profiles.js';
import { showSignIn } from './signin.js';
import { announce, h } from './ui.js';

const ROUTES = [
  [/^#\/media\/([^/]+)$/, showDetail],
  [/^#\/watch\/([^/]+)(?:\/([^/]+))?$/, showPlayer],
  [/^#\/profiles$/, showProfiles],
  [/^(?:#\/?)?$/, showLibrary],
];

const main = document.getElementById('main');
const topbar = document.querySelector('.topbar');
let session = null;
let leaving = null; // AbortController of the view on screen

async function route() {
  leaving?.abort();
  leaving = new AbortController();
  const signal = leaving.signal;
  main.replaceChildren();
  topbar.hidden = !session;
  if (!session) {
    showSignIn(main, { onSignedIn: start });
    return;
  }
  const [view, params] = matchRoute(location.hash);
  try {
    await view(main, { session, params, signal });
  } catch (error) {
    if (signal.aborted) return;
    main.replaceChildren(
      h('section', { class: 'page-message' },
        h('h1', {}, error.status === 404 ? 'Not found' : 'Something went wrong'),
        h('p', {}, error.message),
        h('p', {}, h('a', { href: '#/' }, 'Back to the library'))),
    );
  }
  if (!signal.aborted) main.querySelector('h1')?.focus({ preventScroll: true });
}

function matchRoute(hash) {
  for (const [pattern, view] of ROUTES) {
    const match = hash.match(pattern);
    if (match) return [view, match.slice(1).map((part) => part && decodeURIComponent(part))];
  }
  return [notFound, []];
}

function notFound(target) {
  target.append(
    h('section', { class: 'page-message' },
      h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', {}, h('a', { href: '#/' }, 'Back to the library'))),
  );
}

async function start() {
  try {
    session = await api('/api/session');
  } catch {
    session = null;
  }
  await renderAccount();
  await route();
}

async function renderAccount() {
  const nav = topbar.querySelector('.account');
  nav.replaceChildren();
  if (!session) return;
  if (session.isOwner) {
    const profiles = await api('/api/profiles');
    const select = h('select', { id: 'profile-switch', onchange: () => switchProfile(select.value) },
      profiles.map((p) => h('option', { value: p.id, selected: p.id === session.profile.id }, p.name)));
    nav.append(
      h('label', { class: 'inline', for: 'profile-switch' }, 'Profile'), select,
      h('a', { href: '#/profiles' }, 'Profiles'),
    );
  } else {
    nav.append(h('span', { class: 'who' }, session.profile.name));
  }
  nav.append(h('button', { type: 'button', class: 'quiet', onclick: signOut }, 'Sign out'));
}

async function switchProfile(profileId) {
  session = await api('/api/session', { method: 'PUT', body: { profileId } });
  announce(`Now showing the library of ${session.profile.name}.`);
  if (location.hash && location.hash !== '#/') location.hash = '#/'; // ids differ per profile
  else await route();
  await renderAccount();
}

async function signOut() {
  try {
    await api('/api/session', { method: 'DELETE' });
  } finally {
    session = null;
    await renderAccount();
    history.replaceState(null, '', '/');
    await route();
    announce('Signed out.');
  }
}

whenSignedOut(() => {
  if (!session) return;
  session = null;
  renderAccount();
  route();
});
window.addEventListener('hashchange', route);
window.addEventListener('profiles-changed', renderAccount);

if (document.documentElement.dataset.signedIn === 'yes') start();
else route();
