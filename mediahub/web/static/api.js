// Talking to the mediahub API with the session cookie: JSON in and out, errors as ApiError
// carrying the server's own message. No token is ever held here: the cookie is HttpOnly.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Called with no arguments when the API answers 401 (the session ended elsewhere or expired).
let onSignedOut = () => {};
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = new ApiError(response.status, await messageOf(response));
    if (response.status === 401 && path !== '/api/session') onSignedOut();
    throw error;
  }
  if (response.status === 204) return null;
  return response.json();
}

export async function messageOf(response) {
  try {
    const body = await response.json();
    if (body && typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: fall through to the status line
  }
  return `The server answered ${response.status} ${response.statusText}.`.trim();
}

// Paths of the API, in one place.
export const paths = {
  media: (id) => `/api/media/${encodeURIComponent(id)}`,
  withEpisode: (path, episodeId) => (episodeId ? `${path}?episodeId=${encodeURIComponent(episodeId)}` : path),
};

// Live progress of one item over server-sent events (the cookie authenticates the EventSource).
// `onView` gets each progress view; the source closes itself on a terminal status, since the
// server then ends the stream and an EventSource would otherwise reconnect for ever.
export function watchProgress(id, onView, signal) {
  const source = new EventSource(`${paths.media(id)}/progress/stream`);
  const close = () => source.close();
  source.addEventListener('progress', (event) => {
    const view = JSON.parse(event.data);
    onView(view);
    if (view.status === 'ready' || view.status === 'error') close();
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) close();
  });
  signal.addEventListener('abort', close);
  return close;
}
