// Sign in: a token (the owner's, from mediahub-data/owner.token, or a profile's) becomes an
// HttpOnly session cookie through POST /api/session. The form posts (never GETs), so even
// without this script the token could not end up in a URL.

import { api } from './api.js';
import { errorLine, h } from './ui.js';

export function showSignIn(main, { onSignedIn }) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', required: true,
    autocomplete: 'current-password', spellcheck: false, 'aria-describedby': 'token-help signin-error',
  });
  const error = errorLine('signin-error');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'signin card-panel', method: 'post', action: '/api/session', onsubmit: submit },
    h('h1', { tabindex: '-1' }, 'mediahub'),
    h('p', { id: 'token-help', class: 'muted' },
      'Sign in with the owner token (the server writes it to ', h('code', {}, 'mediahub-data/owner.token'),
      ') or with a profile token.'),
    h('label', { for: 'token' }, 'Token'),
    input,
    button,
    error,
  );
  main.append(form);
  input.focus();

  async function submit(event) {
    event.preventDefault();
    error.textContent = '';
    button.disabled = true;
    try {
      await api('/api/session', { method: 'POST', body: { token: input.value.trim() } });
      input.value = '';
      await onSignedIn();
    } catch (failure) {
      error.textContent = failure.message;
      input.setAttribute('aria-invalid', 'true');
      input.select();
    } finally {
      button.disabled = false;
    }
  }
}
