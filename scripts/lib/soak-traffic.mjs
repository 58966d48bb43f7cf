// The soak's traffic and its bookkeeping: sessions linked to virtual phones, a worker per session
// that mixes every kind of write the API accepts with what the phones send back, and the
// comparison of what was accepted with what arrived (at the phones, at the webhook receiver).

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const EMOJIS = ['👍', '❤️', '😂', '🎉', '🙏'];
const POLL_OPTIONS = ['red', 'green', 'blue', 'yellow'];
const VCARD = 'BEGIN:VCARD\nVERSION:3.0\nFN:Soak Contact\nTEL;type=CELL;waid=15550009999:+1 555 000 9999\nEND:VCARD';
// A write is retried with its Idempotency-Key (on the other gateway too) until it is answered.
const WRITE_PATIENCE_MS = 90_000;
const EXAMPLES = 10;
/**
 * A delivery that a killed gateway had answered but not recorded was accepted just before the
 * kill; one still in flight is accepted after it, within the delivery timeout (15 s) at most.
 */
const REDELIVERY_BEFORE_KILL_MS = 2000;
const REDELIVERY_AFTER_KILL_MS = 16_000;

/** Answers that mean "not accepted, try again with the same key" rather than a verdict. */
const retryable = (status, code) => status >= 500 || status === 429 || (status === 409 && code === 'conflict');

export class SoakTraffic {
  /** Something not exercised, and why; printed once at the start. */
  notes = [
    'image, video, audio, document and sticker sends are skipped: the sandbox has no media server (packages/wa-sandbox README, "Missing")',
  ];
  sessions = [];
  /** Accepted writes: {key, session, kind, contact, outboxId, waMessageId} */
  writes = [];
  /** Writes refused before acceptance, by "<action> <status> <code>" */
  refused = {};
  unanswered = 0;
  /** What the phones sent to the sessions: {id, kind, session, contact} */
  inbound = [];
  /** WhatsApp message id -> copies at its contact's phone */
  atContact = new Map();
  errors = 0;
  #turn = 0;
  #keys = 0;

  constructor({ cluster, random, log, receiver }) {
    this.cluster = cluster;
    this.random = random;
    this.log = log;
    this.receiver = receiver;
  }

  // --- plumbing -------------------------------------------------------------------------

  #pick(list) {
    return list[Math.floor(this.random() * list.length)];
  }

  /** The next gateway in turn: clients of a load-balanced installation land on any replica. */
  #gateway(offset = 0) {
    const urls = this.cluster.gatewayUrls;
    return urls[(this.#turn + offset) % urls.length];
  }

  /**
   * One API call. Writes carry an Idempotency-Key and are retried with it, on the next gateway,
   * after a network error, a 5xx, a 429 or a 409 `conflict` (the first attempt is still being
   * answered), so a write is either answered or given up after WRITE_PATIENCE_MS.
   */
  async api(method, path, body, { key, async = false, patienceMs = WRITE_PATIENCE_MS, accept } = {}) {
    this.#turn++;
    const deadline = Date.now() + patienceMs;
    for (let attempt = 0; ; attempt++) {
      const headers = { authorization: `Bearer ${this.cluster.apiKey}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (key) headers['idempotency-key'] = key;
      if (async) headers.prefer = 'respond-async';
      if (accept) headers.accept = accept;
      let status;
      let answer;
      try {
        const res = await fetch(`${this.#gateway(attempt)}/api/v1${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(40_000),
        });
        status = res.status;
        const text = await res.text();
        answer = text ? JSON.parse(text) : {};
      } catch {
        status = 0;
      }
      if (status && !retryable(status, answer?.error?.code)) return { status, body: answer };
      if (Date.now() > deadline) return { status, body: answer, gaveUp: true };
      await sleep(500 + Math.min(attempt, 6) * 250);
    }
  }

  async sandbox(method, path, body) {
    const res = await fetch(`${this.cluster.sandboxUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = await res.json();
    if (res.status >= 300) throw new Error(`sandbox ${method} ${path}: ${res.status} ${answer.error}`);
    return answer;
  }

  /** A tracked write: accepted (a SendResult), refused (counted by answer), or never answered. */
  async #write(s, kind, contact, method, path, body, { async = false } = {}) {
    const key = `soak-${this.cluster.runId}-${++this.#keys}`;
    const answer = await this.api(method, `/sessions/${s.id}${path}`, body, { key, async });
    if (answer.gaveUp) {
      this.unanswered++;
      this.log(`!! ${kind} on ${s.name} was not answered within ${WRITE_PATIENCE_MS / 1000} s (last: ${answer.status || 'no connection'}); key ${key}`);
      return undefined;
    }
    if (answer.status !== 200 && answer.status !== 202) {
      const what = `${kind} ${answer.status} ${answer.body?.error?.code ?? ''}`.trim();
      this.refused[what] = (this.refused[what] ?? 0) + 1;
      return undefined;
    }
    const write = { key, session: s.name, kind, contact: contact.phone, outboxId: answer.body.outboxId, waMessageId: answer.body.waMessageId, at: Date.now() };
    this.writes.push(write);
    return write;
  }

  // --- set-up ---------------------------------------------------------------------------

  async createWebhook() {
    const res = await this.api('POST', '/webhooks', { url: this.receiver.url, events: ['*'], description: 'soak receiver' });
    if (res.status !== 201) throw new Error(`creating the webhook answered ${res.status}: ${JSON.stringify(res.body)}`);
    this.receiver.setSecret(res.body.secret);
  }

  /** Sessions i = 1..n on account phones 1555100000i, each writing to its own contact and its neighbour's. */
  async linkSessions(n) {
    const contacts = [];
    for (let i = 1; i <= n; i++) contacts.push(await this.sandbox('POST', '/phones', { phone: `1555200${String(i).padStart(4, '0')}`, name: `Contact ${i}` }));
    for (let i = 1; i <= n; i++) {
      const account = await this.sandbox('POST', '/phones', { phone: `1555100${String(i).padStart(4, '0')}`, name: `Account ${i}` });
      const created = await this.api('POST', '/sessions', { name: `soak ${i}` });
      if (created.status !== 201) throw new Error(`creating a session answered ${created.status}: ${JSON.stringify(created.body)}`);
      const s = {
        name: `session-${i}`,
        id: created.body.id,
        account,
        contacts: [contacts[i - 1], contacts[i % n]],
        /** own messages seen at their contact: targets for reactions, edits, deletes, phone votes */
        own: [],
        reacted: [],
        /** what the contacts sent that the session can answer: texts to reply to, polls to vote on */
        inboundTexts: [],
        contactPolls: [],
      };
      await this.#startAndWait(s, true);
      this.sessions.push(s);
    }
  }

  async #startAndWait(s, link = false) {
    const started = await this.api('POST', `/sessions/${s.id}/start`);
    if (started.status !== 200) throw new Error(`starting ${s.name} answered ${started.status}: ${JSON.stringify(started.body)}`);
    if (link) {
      const qr = await this.api('GET', `/sessions/${s.id}/qr?waitMs=30000`, undefined, { accept: 'application/json' });
      if (qr.status !== 200) throw new Error(`the QR of ${s.name} answered ${qr.status}: ${JSON.stringify(qr.body)}`);
      await this.sandbox('POST', `/phones/${s.account.phone}/scan`, { qr: qr.body.qr });
    }
    await this.#waitStatus(s, 'connected', 90_000);
  }

  async #waitStatus(s, wanted, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      last = await this.api('GET', `/sessions/${s.id}`, undefined, { patienceMs: 10_000 });
      if (last.body?.status === wanted) return;
      await sleep(250);
    }
    throw new Error(`${s.name} stayed ${last?.body?.status} (${last?.body?.statusReason}), wanted ${wanted}`);
  }

  // --- traffic --------------------------------------------------------------------------

  /** Stops a session for a few seconds while its worker keeps writing, then starts it again. */
  async bounceSession(index) {
    const s = this.sessions[index % this.sessions.length];
    const stopped = await this.api('POST', `/sessions/${s.id}/stop`);
    this.log(`${s.name} stop: ${stopped.status} ${stopped.body?.status ?? ''}`);
    await sleep(8_000);
    await this.#startAndWait(s);
    this.log(`${s.name} connected again`);
  }

  /** Sessions a fault left stopped or reconnecting are brought back before the final count. */
  async ensureAllConnected() {
    for (const s of this.sessions) {
      const now = await this.api('GET', `/sessions/${s.id}`, undefined, { patienceMs: 30_000 });
      if (now.body?.status === 'connected') continue;
      this.log(`${s.name} is ${now.body?.status} (${now.body?.statusReason ?? ''}) after the traffic; waiting for it to connect`);
      try {
        if (['stopped', 'failed'].includes(now.body?.status)) await this.#startAndWait(s);
        else await this.#waitStatus(s, 'connected', 60_000);
      } catch (err) {
        this.log(`!! ${err.message}`);
      }
    }
  }

  async run(endAt) {
    const refresher = (async () => {
      while (Date.now() < endAt) {
        await this.refreshContacts().catch(() => undefined);
        await sleep(5_000);
      }
    })();
    await Promise.all([...this.sessions.map((s) => this.#worker(s, endAt)), refresher]);
  }

  async #worker(s, endAt) {
    // Weights: mostly plain sends, every other kind of write regularly, and the phones talking back.
    const actions = [
      [24, () => this.#send(s, { type: 'text', text: `soak text ${this.#keys}` }, { async: true })],
      [8, () => this.#send(s, { type: 'text', text: `soak sync text ${this.#keys}` })],
      [4, () => this.#send(s, { type: 'location', latitude: 52.52, longitude: 13.405, name: 'Soak square' }, { async: this.random() < 0.5 })],
      [4, () => this.#send(s, { type: 'contacts', contacts: [{ displayName: 'Soak Contact', vcard: VCARD }] }, { async: this.random() < 0.5 })],
      [4, () => this.#send(s, { type: 'poll', name: `Colour ${this.#keys}?`, options: POLL_OPTIONS, selectableCount: this.random() < 0.5 ? 1 : 0 }, { async: this.random() < 0.5 })],
      [4, () => this.#reply(s)],
      [5, () => this.#react(s)],
      [3, () => this.#unreact(s)],
      [4, () => this.#edit(s)],
      [2, () => this.#revoke(s)],
      [3, () => this.#apiVote(s)],
      [2, () => this.#markRead(s)],
      [10, () => this.#phoneText(s)],
      [2, () => this.#phonePoll(s)],
      [4, () => this.#phoneVote(s)],
      [3, () => this.#phoneReact(s)],
    ];
    const total = actions.reduce((sum, [w]) => sum + w, 0);
    while (Date.now() < endAt) {
      let roll = this.random() * total;
      const [, action] = actions.find(([w]) => (roll -= w) < 0) ?? actions[0];
      try {
        await action();
      } catch (err) {
        if (++this.errors <= EXAMPLES) this.log(`!! ${s.name}: ${err.message}`);
      }
      await sleep(300 + Math.floor(this.random() * 900));
    }
  }

  #contact(s) {
    return this.#pick(s.contacts);
  }

  async #send(s, message, options = {}) {
    const contact = this.#contact(s);
    const write = await this.#write(s, `send:${message.type}`, contact, 'POST', '/messages', { chat: contact.jid, ...message }, options);
    if (write) s.own.push({ ...write, type: message.type, contactJid: contact.jid, contactPhone: contact.phone });
  }

  /** Own messages already at their contact (so the runner knows them): the newest few. */
  #target(s, pred = () => true) {
    const seen = s.own.filter((m) => !m.revoked && this.atContact.has(m.waMessageId) && pred(m)).slice(-20);
    return seen.length ? this.#pick(seen) : undefined;
  }

  async #reply(s) {
    const quoted = s.inboundTexts.length ? this.#pick(s.inboundTexts.slice(-20)) : undefined;
    if (!quoted) return this.#send(s, { type: 'text', text: 'nothing to reply to yet' }, { async: true });
    const stored = await this.api('GET', `/sessions/${s.id}/messages/${quoted.id}`, undefined, { patienceMs: 10_000 });
    if (stored.status !== 200) return undefined;
    const contact = s.contacts.find((c) => c.phone === quoted.contact);
    const write = await this.#write(s, 'send:reply', contact, 'POST', '/messages', { chat: contact.jid, type: 'text', text: 'soak reply', replyTo: { id: quoted.id, sender: stored.body.sender } }, { async: true });
    if (write) s.own.push({ ...write, type: 'text', contactJid: contact.jid, contactPhone: contact.phone });
    return undefined;
  }

  async #react(s) {
    const target = this.#target(s, (m) => !m.reaction);
    if (!target) return;
    const contact = s.contacts.find((c) => c.phone === target.contactPhone);
    const emoji = this.#pick(EMOJIS);
    const write = await this.#write(s, 'reaction', contact, 'POST', `/messages/${target.waMessageId}/reaction`, { chat: contact.jid, sender: s.account.jid, emoji }, { async: this.random() < 0.5 });
    if (write) target.reaction = emoji;
  }

  async #unreact(s) {
    // Only a reaction that is set: removing none is a no-op that sends nothing to look for.
    const target = this.#target(s, (m) => Boolean(m.reaction));
    if (!target) return;
    const contact = s.contacts.find((c) => c.phone === target.contactPhone);
    const write = await this.#write(s, 'reaction-removal', contact, 'DELETE', `/messages/${target.waMessageId}/reaction`, { chat: contact.jid, sender: s.account.jid }, { async: this.random() < 0.5 });
    if (write) target.reaction = undefined;
  }

  async #edit(s) {
    const target = this.#target(s, (m) => m.type === 'text');
    if (!target) return;
    const contact = s.contacts.find((c) => c.phone === target.contactPhone);
    await this.#write(s, 'edit', contact, 'PATCH', `/messages/${target.waMessageId}`, { chat: contact.jid, text: `edited ${this.#keys}` }, { async: this.random() < 0.5 });
  }

  async #revoke(s) {
    const target = this.#target(s);
    if (!target) return;
    const contact = s.contacts.find((c) => c.phone === target.contactPhone);
    target.revoked = true;
    await this.#write(s, 'delete', contact, 'DELETE', `/messages/${target.waMessageId}`, { chat: contact.jid }, { async: this.random() < 0.5 });
  }

  async #apiVote(s) {
    const poll = s.contactPolls.length ? this.#pick(s.contactPolls.slice(-10)) : undefined;
    if (!poll) return;
    const stored = await this.api('GET', `/sessions/${s.id}/messages/${poll.id}`, undefined, { patienceMs: 10_000 });
    if (stored.status !== 200) return;
    const contact = s.contacts.find((c) => c.phone === poll.contact);
    const options = POLL_OPTIONS.filter(() => this.random() < 0.4).slice(0, 1);
    await this.#write(s, 'vote', contact, 'POST', `/messages/${poll.id}/vote`, { chat: stored.body.chat, sender: stored.body.sender, options }, { async: this.random() < 0.5 });
  }

  async #markRead(s) {
    const contact = this.#contact(s);
    const res = await this.api('POST', `/sessions/${s.id}/chats/${encodeURIComponent(contact.jid)}/read`, {}, { patienceMs: 20_000 });
    if (res.status !== 204) {
      const what = `read ${res.status} ${res.body?.error?.code ?? ''}`.trim();
      this.refused[what] = (this.refused[what] ?? 0) + 1;
    }
  }

  async #fromPhone(s, contact, kind, message) {
    const { id } = await this.sandbox('POST', `/phones/${contact.phone}/messages`, { to: s.account.jid, message });
    this.inbound.push({ id, kind, session: s.name, contact: contact.phone });
    return id;
  }

  async #phoneText(s) {
    const contact = this.#contact(s);
    const id = await this.#fromPhone(s, contact, 'text', { type: 'text', text: `from ${contact.phone} ${this.inbound.length}` });
    s.inboundTexts.push({ id, contact: contact.phone });
  }

  async #phonePoll(s) {
    const contact = this.#contact(s);
    const id = await this.#fromPhone(s, contact, 'poll', { type: 'poll', name: `Phone poll ${this.inbound.length}`, options: POLL_OPTIONS, selectableCount: 1 });
    s.contactPolls.push({ id, contact: contact.phone });
  }

  async #phoneVote(s) {
    const poll = this.#target(s, (m) => m.type === 'poll');
    if (!poll) return;
    const contact = s.contacts.find((c) => c.phone === poll.contactPhone);
    await this.#fromPhone(s, contact, 'vote', { type: 'vote', pollId: poll.waMessageId, options: [this.#pick(POLL_OPTIONS)] });
  }

  async #phoneReact(s) {
    const target = this.#target(s);
    if (!target) return;
    const contact = s.contacts.find((c) => c.phone === target.contactPhone);
    await this.#fromPhone(s, contact, 'reaction', { type: 'reaction', targetId: target.waMessageId, emoji: this.#pick(EMOJIS) });
  }

  // --- accounting -----------------------------------------------------------------------

  /** What every contact phone received, counted by WhatsApp id (its own devices' copies aside). */
  async refreshContacts() {
    const counts = new Map();
    const phones = new Set(this.sessions.flatMap((s) => s.contacts.map((c) => c.phone)));
    for (const phone of phones) {
      for (const m of await this.sandbox('GET', `/phones/${phone}/messages`)) {
        if (!m.fromOwnDevice) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
      }
    }
    this.atContact = counts;
  }

  /** Inbound WhatsApp id -> event type -> webhook ids of the events carrying it (message.status aside). */
  #inboundEvents() {
    const byMessage = new Map();
    for (const [webhookId, { envelope }] of this.receiver.accepted) {
      const mid = envelope.data?.messageId;
      if (!mid || envelope.type === 'message.status') continue;
      const types = byMessage.get(mid) ?? new Map();
      types.set(envelope.type, new Set([...(types.get(envelope.type) ?? []), webhookId]));
      byMessage.set(mid, types);
    }
    return byMessage;
  }

  async #outbox(pg, schema) {
    const rows = await pg.query(`SELECT id, status, error, attempts FROM "${schema}".outbox WHERE org_id = $1`, [this.cluster.org]);
    return new Map(rows.rows.map((r) => [r.id, r]));
  }

  async #events(pg, schema) {
    return (await pg.query(`SELECT id, type, session_id, sequence FROM "${schema}".events WHERE org_id = $1`, [this.cluster.org])).rows;
  }

  progress() {
    const delivered = this.writes.filter((w) => this.atContact.has(w.waMessageId)).length;
    return `writes ${this.writes.length} (${delivered} at contacts), inbound ${this.inbound.length}, webhooks accepted ${this.receiver.accepted.size}`;
  }

  /**
   * Waits until nothing is on its way any more: no outbox entry pending, every accepted write at
   * its contact (or failed for good), every inbound message an event, every recorded event
   * accepted by the receiver. Returns whether that happened before the deadline.
   */
  async drain({ pg, schema, deadline }) {
    let nextLog = Date.now() + 15_000;
    for (;;) {
      await this.refreshContacts().catch(() => undefined);
      const outbox = await this.#outbox(pg, schema);
      const pending = [...outbox.values()].filter((r) => r.status === 'queued' || r.status === 'sending').length;
      const missing = this.writes.filter((w) => !this.atContact.has(w.waMessageId) && outbox.get(w.outboxId)?.status !== 'failed').length;
      const inboundEvents = this.#inboundEvents();
      const inboundMissing = this.inbound.filter((m) => !inboundEvents.has(m.id)).length;
      const events = await this.#events(pg, schema);
      const undelivered = events.filter((e) => !this.receiver.accepted.has(e.id)).length;
      if (pending + missing + inboundMissing + undelivered === 0) {
        // Anything sent twice would arrive right behind the first copy: look a little longer.
        await sleep(5_000);
        await this.refreshContacts().catch(() => undefined);
        return true;
      }
      if (Date.now() > deadline) return false;
      if (Date.now() >= nextLog) {
        this.log(`settling: outbox pending ${pending}, writes not at contacts ${missing}, inbound without event ${inboundMissing}, events not delivered ${undelivered}`);
        nextLog += 15_000;
      }
      await sleep(1_000);
    }
  }

  /** `gatewayKills`: when gateways were killed (ms), to tell at-least-once redeliveries from duplicates. */
  async result({ pg, schema, runnerSchema, gatewayKills = [] }) {
    const outbox = await this.#outbox(pg, schema);
    const leases = new Map(
      (await pg.query(`SELECT session_id, owner_id, epoch FROM "${runnerSchema}".session_leases`)).rows.map((r) => [r.session_id, { owner: r.owner_id, epoch: Number(r.epoch) }]),
    );
    const byKind = {};
    const lost = [];
    const duplicated = [];
    for (const w of this.writes) {
      byKind[w.kind] = (byKind[w.kind] ?? 0) + 1;
      const copies = this.atContact.get(w.waMessageId) ?? 0;
      const entry = outbox.get(w.outboxId);
      if (copies === 0) lost.push({ ...w, outboxStatus: entry?.status ?? 'missing', error: entry?.error ?? null, attempts: entry?.attempts });
      if (copies > 1) duplicated.push({ ...w, copies });
    }

    const inboundEvents = this.#inboundEvents();
    const inboundLost = this.inbound.filter((m) => !inboundEvents.has(m.id));
    const inboundDup = [];
    for (const m of this.inbound) {
      // The same WhatsApp message recorded as two events (two event ids, one message id).
      for (const [type, ids] of inboundEvents.get(m.id) ?? []) if (ids.size > 1) inboundDup.push({ ...m, type, webhookIds: [...ids] });
    }

    const events = await this.#events(pg, schema);
    const byType = {};
    const eventsLost = [];
    const eventsDup = [];
    const eventsRedelivered = [];
    const sequences = new Map();
    for (const e of events) {
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      const accepted = this.receiver.accepted.get(e.id);
      if (!accepted) eventsLost.push({ id: e.id, type: e.type, sessionId: e.session_id, sequence: Number(e.sequence) });
      else if (accepted.at.length > 1) {
        const copy = { id: e.id, type: e.type, copies: accepted.at.length, acceptedAt: accepted.at };
        // Delivery is at least once: a delivery in flight (or answered, not yet recorded) when
        // its gateway was killed is delivered again with the same webhook-id, which a Standard
        // Webhooks receiver drops. Only a copy no kill explains counts as a duplicate.
        if (gatewayKills.some((k) => accepted.at[0] >= k - REDELIVERY_BEFORE_KILL_MS && accepted.at[0] <= k + REDELIVERY_AFTER_KILL_MS)) eventsRedelivered.push(copy);
        else eventsDup.push(copy);
      }
      if (e.session_id) sequences.set(e.session_id, [...(sequences.get(e.session_id) ?? []), Number(e.sequence)]);
    }
    let sequenceGaps = 0;
    for (const list of sequences.values()) {
      const sorted = list.sort((a, b) => a - b);
      sorted.forEach((n, i) => {
        if (n !== i + 1) sequenceGaps++;
      });
    }
    const recordedIds = new Set(events.map((e) => e.id));
    const unknown = [...this.receiver.accepted.keys()].filter((id) => !recordedIds.has(id));

    return {
      messages: {
        sent: this.writes.length,
        delivered: this.writes.length - lost.length,
        lost: lost.length,
        duplicated: duplicated.reduce((n, d) => n + d.copies - 1, 0),
        byKind,
        refused: this.refused,
        unanswered: this.unanswered,
        lostExamples: lost.slice(0, EXAMPLES),
        duplicatedExamples: duplicated.slice(0, EXAMPLES),
      },
      inbound: {
        sent: this.inbound.length,
        received: this.inbound.length - inboundLost.length,
        lost: inboundLost.length,
        duplicated: inboundDup.length,
        lostExamples: inboundLost.slice(0, EXAMPLES),
        duplicatedExamples: inboundDup.slice(0, EXAMPLES),
      },
      events: {
        recorded: events.length,
        delivered: events.length - eventsLost.length,
        lost: eventsLost.length,
        duplicated: eventsDup.reduce((n, d) => n + d.copies - 1, 0),
        redelivered: eventsRedelivered.reduce((n, d) => n + d.copies - 1, 0),
        byType,
        sequenceGaps,
        notRecorded: unknown.length,
        requests: this.receiver.requests,
        answeredTooLate: this.receiver.answeredTooLate,
        refusedSignatures: this.receiver.refusedSignatures,
        lostExamples: eventsLost.slice(0, EXAMPLES),
        duplicatedExamples: eventsDup.slice(0, EXAMPLES),
        redeliveredExamples: eventsRedelivered.slice(0, EXAMPLES),
      },
      sessions: this.sessions.map((s) => ({ name: s.name, id: s.id, ...leases.get(s.id) })),
      errors: this.errors,
    };
  }
}
