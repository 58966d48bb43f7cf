// Entry point: sign-in with an API key, the event stream, and the three views.
import { api, apiKey } from './api.js';
import { $, act, clearError, el, onSubmit, showError, time } from './dom.js';
import { openEventStream } from './event-stream.js';
import { bindSessionForms, loadSessions, onSessionEvent, resetSessions } from './sessions.js';
import { bindWebhookForms, loadWebhooks, resetWebhooks } from './webhooks.js';

const MAX_EVENTS = 50;
let closeStream;

function signedIn() {
  $('#sign-in').hidden = true;
  $('#signed-in').hidden = false;
  $('#sign-out').hidden = false;
  $('#stream-state').hidden = false;
  closeStream = openEventStream({
    onState: (state) => ($('#stream-state').textContent = `Live updates: ${state}`),
    // Loaded once the stream is open, so no change falls between the list and the stream.
    onOpen: () => act(null, () => Promise.all([loadSessions(), loadWebhooks()])),
    onEvent: (event) => {
      addEvent(event);
      if (event.type.startsWith('session.')) onSessionEvent(event);
    },
  });
}

function signOut() {
  closeStream?.();
  closeStream = undefined;
  apiKey.clear();
  clearError();
  resetSessions();
  resetWebhooks();
  $('#event-list').replaceChildren();
  $('#signed-in').hidden = true;
  $('#sign-out').hidden = true;
  $('#stream-state').hidden = true;
  $('#sign-in').hidden = false;
  $('#api-key').focus();
}

function addEvent(event) {
  const env = event.data;
  const summary = env.type === 'session.status' ? env.data.status : env.type === 'session.qr' ? 'new QR' : env.data?.messageId ?? '';
  const list = $('#event-list');
  list.prepend(el('li', { 'data-event-type': env.type },
    el('time', { text: time(env.timestamp) }),
    el('strong', { text: env.type }),
    el('span', { text: [env.sessionId ? `session ${env.sessionId}` : '', summary].filter(Boolean).join(': ') })));
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

onSubmit($('#sign-in-form'), async ({ apiKey: key }, form) => {
  apiKey.set(key.trim());
  try {
    // Checks the key before anything else runs with it.
    await api('/sessions?limit=1');
  } catch (err) {
    apiKey.clear();
    throw err;
  }
  form.reset();
  signedIn();
});
$('#sign-out').addEventListener('click', signOut);
bindSessionForms();
bindWebhookForms();

if (apiKey.get()) signedIn();
window.addEventListener('unhandledrejection', (event) => showError(event.reason));
