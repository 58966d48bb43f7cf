// Webhooks: endpoints, their delivery log and replay of a delivery.
import { api, enc } from './api.js';
import { $, act, el, onSubmit, time } from './dom.js';

let webhooks = [];
let openId;

export async function loadWebhooks() {
  webhooks = (await api('/webhooks')).data;
  renderList();
  if (openId && webhooks.some((w) => w.id === openId)) await loadDeliveries(openId);
  else closeDeliveries();
}

export function resetWebhooks() {
  webhooks = [];
  renderList();
  closeDeliveries();
  $('#webhook-secret').textContent = '';
}

function renderList() {
  $('#webhook-list').replaceChildren(...webhooks.map((w) => el(
    'li',
    { class: 'card', 'data-webhook-id': w.id },
    el('div', { class: 'card-head' },
      el('span', { class: 'url', text: w.url }),
      el('span', { class: 'status', 'data-status': w.status, text: w.disabledReason ? `${w.status} (${w.disabledReason})` : w.status })),
    el('p', { class: 'hint', text: `Events: ${w.events.join(', ')}` }),
    el('div', { class: 'actions' },
      el('button', { type: 'button', text: 'Delivery log', 'aria-label': `Delivery log of ${w.url}`, onclick: (e) => act(e.currentTarget, () => loadDeliveries(w.id)) }),
      el('button', { type: 'button', text: 'Send ping', 'aria-label': `Send a test ping to ${w.url}`, onclick: (e) => act(e.currentTarget, async () => {
        await api(`/webhooks/${enc(w.id)}/test`, { method: 'POST' });
        await loadDeliveries(w.id);
      }) }),
      w.status === 'disabled'
        ? el('button', { type: 'button', text: 'Enable', 'aria-label': `Enable ${w.url}`, onclick: (e) => act(e.currentTarget, async () => {
          await api(`/webhooks/${enc(w.id)}/enable`, { method: 'POST' });
          await loadWebhooks();
        }) })
        : undefined,
      el('button', { type: 'button', text: 'Delete', 'aria-label': `Delete webhook ${w.url}`, onclick: (e) => act(e.currentTarget, async () => {
        if (!confirm(`Delete the webhook to ${w.url}?`)) return;
        await api(`/webhooks/${enc(w.id)}`, { method: 'DELETE' });
        await loadWebhooks();
      }) }),
    ),
  )));
}

async function loadDeliveries(id) {
  openId = id;
  const { data } = await api(`/webhooks/${enc(id)}/deliveries?limit=50`);
  const hook = webhooks.find((w) => w.id === id);
  $('#deliveries-title').textContent = `Delivery log: ${hook?.url ?? id}`;
  $('#delivery-rows').replaceChildren(...data.map((d) => {
    const last = d.attempts[d.attempts.length - 1];
    const answer = last ? `${last.statusCode ?? last.error ?? ''} in ${last.latencyMs} ms at ${time(last.attemptedAt)}` : 'not tried yet';
    return el('tr', { 'data-delivery-id': d.id },
      el('td', { text: `${d.eventType} #${d.sequence}` }),
      el('td', { text: d.status }),
      el('td', { text: String(d.attemptCount) }),
      el('td', { text: answer }),
      el('td', {}, el('button', { type: 'button', text: 'Replay', 'aria-label': `Replay ${d.eventType} #${d.sequence}`, onclick: (e) => act(e.currentTarget, async () => {
        await api(`/webhooks/${enc(id)}/deliveries/${enc(d.id)}/replay`, { method: 'POST' });
        await loadDeliveries(id);
      }) })));
  }));
  $('#deliveries').hidden = false;
}

function closeDeliveries() {
  openId = undefined;
  $('#deliveries').hidden = true;
  $('#delivery-rows').replaceChildren();
}

export function bindWebhookForms() {
  onSubmit($('#create-webhook-form'), async ({ url, events }, form) => {
    const created = await api('/webhooks', { method: 'POST', body: { url, events: events.split(',').map((e) => e.trim()).filter(Boolean) } });
    form.reset();
    // Shown once by the gateway; it is never returned again.
    $('#webhook-secret').textContent = `Signing secret (copy it now, it is not shown again): ${created.secret}`;
    await loadWebhooks();
  });
}
