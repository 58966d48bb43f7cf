// Sessions: the list with live statuses, the selected session's QR, pairing code and test send.
import { api, enc, qrPng } from './api.js';
import { $, act, el, onSubmit, showError } from './dom.js';

const sessions = new Map();
let selectedId;
let qrUrl;
let qrLoads = 0;

export async function loadSessions() {
  sessions.clear();
  let cursor = '';
  do {
    const page = await api(`/sessions?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    for (const s of page.data) remember(s);
    cursor = page.nextCursor;
  } while (cursor);
  render();
}

/** Applies a session.status or session.qr event from the stream. */
export function onSessionEvent(event) {
  const id = event.data.sessionId;
  if (event.type === 'session.status') {
    const known = sessions.get(id);
    if (!known) return void loadSessions().catch(showError);
    sessions.set(id, { ...known, status: event.data.data.status, statusReason: event.data.data.reason ?? null, me: event.data.data.me ?? known.me, statusAt: event.data.timestamp });
    render();
  } else if (event.type === 'session.qr' && id === selectedId) {
    void showQr(event.data.data.qr);
  }
}

export function resetSessions() {
  sessions.clear();
  selectedId = undefined;
  hideQr();
  render();
}

function render() {
  const list = $('#session-list');
  list.replaceChildren(...[...sessions.values()].map(card));
  if (!sessions.has(selectedId)) selectedId = undefined;
  renderDetail();
}

function card(s) {
  const action = (label, path, method = 'POST') =>
    el('button', {
      type: 'button',
      text: label,
      'aria-label': `${label} ${s.name}`,
      onclick: (e) => act(e.currentTarget, async () => {
        if (method === 'DELETE' && !confirm(`Delete session "${s.name}"? This unlinks the device and forgets its data.`)) return;
        const updated = await api(`/sessions/${enc(s.id)}${path}`, { method });
        if (method === 'DELETE') sessions.delete(s.id);
        else if (updated) remember(updated);
        render();
      }),
    });
  return el(
    'li',
    { class: s.id === selectedId ? 'card selected' : 'card', 'data-session-id': s.id },
    el('div', { class: 'card-head' },
      el('button', { type: 'button', class: 'link', text: s.name, 'aria-pressed': String(s.id === selectedId), onclick: () => select(s.id) }),
      el('span', { class: 'status', 'data-status': s.status, text: statusText(s) })),
    el('div', { class: 'actions' }, action('Start', '/start'), action('Stop', '/stop'), action('Log out', '/logout'), action('Delete', '', 'DELETE')),
  );
}

/** Takes a session from a REST answer unless the stream already brought a newer status. */
function remember(session) {
  const known = sessions.get(session.id);
  if (known?.statusAt && known.statusAt > Date.parse(session.updatedAt)) return;
  sessions.set(session.id, { ...session, statusAt: Date.parse(session.updatedAt) });
}

const statusText = (s) => (s.statusReason ? `${s.status} (${s.statusReason})` : s.status);

export function select(id) {
  selectedId = id;
  $('#pairing-code').textContent = '';
  $('#send-result').textContent = '';
  hideQr();
  render();
}

function renderDetail() {
  const panel = $('#session-detail');
  const s = sessions.get(selectedId);
  panel.hidden = !s;
  if (!s) return hideQr();
  $('#session-detail-title').textContent = s.name;
  const status = $('#session-status');
  status.textContent = s.me?.jid ? `${statusText(s)} as ${[s.me.pushName, s.me.jid].filter(Boolean).join(' ')}` : statusText(s);
  status.dataset.status = s.status;
  if (s.status === 'qr') {
    if ($('#qr').hidden) void showQr();
  } else {
    hideQr();
  }
}

/** Shows the pending QR: `qr` is the raw string when an event brought it, else it is asked for. */
async function showQr(qr) {
  const load = ++qrLoads;
  const id = selectedId;
  try {
    const raw = qr ?? (await api(`/sessions/${enc(id)}/qr`)).qr;
    const blob = await qrPng(id);
    // A newer load or another selection won while this one was in flight.
    if (load !== qrLoads || id !== selectedId) return;
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = URL.createObjectURL(blob);
    $('#qr-image').src = qrUrl;
    $('#qr').dataset.qr = raw;
    $('#qr').hidden = false;
  } catch (err) {
    // The QR expired or was scanned between the event and the fetch; the next event fixes it.
    if (err.details?.reason !== 'no_qr_pending') showError(err);
  }
}

function hideQr() {
  qrLoads++;
  const figure = $('#qr');
  figure.hidden = true;
  delete figure.dataset.qr;
  $('#qr-image').removeAttribute('src');
  if (qrUrl) URL.revokeObjectURL(qrUrl);
  qrUrl = undefined;
}

/** A phone number becomes its personal-chat JID; anything with an @ is taken as a JID. */
const toJid = (to) => (to.includes('@') ? to.trim() : `${to.replace(/[^0-9]/g, '')}@s.whatsapp.net`);

export function bindSessionForms() {
  onSubmit($('#create-session-form'), async ({ name }, form) => {
    const created = await api('/sessions', { method: 'POST', body: { name } });
    remember(created);
    form.reset();
    select(created.id);
  });
  onSubmit($('#pairing-form'), async ({ phoneNumber }) => {
    const { code } = await api(`/sessions/${enc(selectedId)}/pairing-code`, { method: 'POST', body: { phoneNumber } });
    $('#pairing-code').textContent = `Pairing code: ${code} (WhatsApp: Linked devices, Link with phone number)`;
  });
  onSubmit($('#send-form'), async ({ to, text }) => {
    $('#send-result').textContent = '';
    const result = await api(`/sessions/${enc(selectedId)}/messages`, { method: 'POST', body: { chat: toJid(to), type: 'text', text } });
    const out = $('#send-result');
    out.textContent = `Message ${result.waMessageId}: ${result.status}`;
    out.dataset.messageId = result.waMessageId;
  });
}
