// The owner's page: profiles, a new profile, and tokens for them (shown once, for another
// device or person to sign in with). Switching profile is in the top bar.

import { api } from './api.js';
import { announce, errorLine, h } from './ui.js';

export async function showProfiles(main, { session, signal }) {
  if (!session.isOwner) {
    main.append(h('section', { class: 'page-message' },
      h('h1', { tabindex: '-1' }, 'Profiles'),
      h('p', {}, 'Only the owner manages profiles. Sign in with the owner token to do so.')));
    return;
  }
  const profiles = await api('/api/profiles', { signal });
  const error = errorLine('profiles-error');
  const made = h('div', { class: 'new-token', role: 'status' });
  const name = h('input', { id: 'profile-name', type: 'text', required: true, maxLength: 100, autocomplete: 'off' });
  const list = h('ul', { class: 'profiles' });

  function row(profile) {
    const acting = profile.id === session.profile.id;
    return h('li', {},
      h('span', { class: 'profile-name' }, profile.name),
      acting ? h('span', { class: 'badge' }, 'this session') : null,
      h('button', { type: 'button', onclick: () => makeToken(profile) }, `Make a token for ${profile.name}`));
  }
  list.append(...profiles.map(row));

  async function makeToken(profile) {
    error.textContent = '';
    try {
      const token = await api(`/api/profiles/${encodeURIComponent(profile.id)}/tokens`, {
        method: 'POST', body: { label: 'made in the web app' },
      });
      const field = h('input', { id: 'new-token', type: 'text', readOnly: true, value: token.token, spellcheck: false });
      made.replaceChildren(
        h('label', { for: 'new-token' }, `Token for ${profile.name} (shown only now)`),
        h('div', { class: 'add-row' }, field,
          h('button', { type: 'button', onclick: () => copy(field) }, 'Copy')),
      );
      field.select();
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  async function create(event) {
    event.preventDefault();
    error.textContent = '';
    try {
      const profile = await api('/api/profiles', { method: 'POST', body: { name: name.value.trim() } });
      list.append(row(profile));
      name.value = '';
      announce(`Profile ${profile.name} created.`);
      window.dispatchEvent(new Event('profiles-changed'));
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  main.append(h('section', { class: 'profiles-page card-panel' },
    h('h1', { tabindex: '-1' }, 'Profiles'),
    h('p', { class: 'muted' }, 'Each profile has its own library, positions and continue-watching row.'),
    list,
    h('form', { class: 'add', onsubmit: create },
      h('label', { for: 'profile-name' }, 'New profile name'),
      h('div', { class: 'add-row' }, name, h('button', { type: 'submit', class: 'primary' }, 'Create profile'))),
    error,
    made));
}

async function copy(field) {
  try {
    await navigator.clipboard.writeText(field.value);
    announce('Token copied.');
  } catch {
    field.select(); // the clipboard is not available here: leave it selected for Ctrl+C
    announce('Select and copy the token by hand.');
  }
}
