import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAULT_KINDS, PHONE_CHAT_ACTIONS, SERVER_IDENTITIES, SandboxError, type FaultKind, type PhoneChatAction, type OutgoingMessage, type PresenceState, type ServerIdentity } from './sandbox.types';
import type { ProfileChange } from './profile.directory';
import type { WaSandbox } from './wa-sandbox.server';

type Body = Record<string, unknown>;
type Route = { method: string; pattern: RegExp; handle: (sandbox: WaSandbox, params: string[], body: Body) => Promise<unknown> | unknown };

const text = (body: Body, key: string): string => {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new SandboxError(400, `"${key}" must be a non-empty string`);
  return value;
};

const MESSAGE_TYPES = new Set(['text', 'location', 'contact', 'contacts', 'poll', 'vote', 'reaction', 'edit', 'revoke', 'image', 'video', 'audio', 'document', 'sticker']);
const PRESENCE_STATES = new Set(['composing', 'paused', 'recording', 'available', 'unavailable']);

function outgoing(body: Body): OutgoingMessage {
  const message = body.message;
  if (!message || typeof message !== 'object' || !MESSAGE_TYPES.has(String((message as Body).type))) {
    throw new SandboxError(400, `"message.type" must be one of ${[...MESSAGE_TYPES].join(', ')}`);
  }
  return message as OutgoingMessage;
}

const routes: Route[] = [
  { method: 'GET', pattern: /^\/health$/, handle: (sandbox) => ({ ok: true, wsUrl: sandbox.wsUrl, rootPublicKey: sandbox.rootPublicKey, mediaBaseUrl: sandbox.mediaBaseUrl, mediaCaFile: sandbox.mediaCaFile }) },
  { method: 'GET', pattern: /^\/phones$/, handle: (sandbox) => sandbox.listPhones() },
  {
    method: 'POST',
    pattern: /^\/phones$/,
    handle: (sandbox, _params, body) => sandbox.createPhone(text(body, 'phone'), typeof body.name === 'string' ? body.name : undefined),
  },
  { method: 'POST', pattern: /^\/phones\/(\d+)\/scan$/, handle: (sandbox, [phone = ''], body) => sandbox.scanQr(phone, text(body, 'qr')) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/pairing-code$/,
    handle: (sandbox, [phone = ''], body) => sandbox.enterPairingCode(phone, text(body, 'code')),
  },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/messages$/, handle: (sandbox, [phone = '']) => sandbox.received(phone) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/chats\/(\d+)\/history$/,
    handle: (sandbox, [phone = '', contact = ''], body) => sandbox.seedChatHistory(phone, contact, seededMessages(body)),
  },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/history-requests$/, handle: (sandbox, [phone = '']) => sandbox.historyRequests(phone) },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/calls$/, handle: (sandbox, [phone = '']) => sandbox.callsOf(phone) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/calls$/,
    handle: (sandbox, [phone = ''], body) => sandbox.placeCall(phone, text(body, 'to'), { video: body.video === true, group: body.group === true }),
  },
  { method: 'POST', pattern: /^\/phones\/(\d+)\/calls\/([0-9A-F]+)\/end$/, handle: (sandbox, [phone = '', callId = '']) => sandbox.endCall(phone, callId) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/online$/,
    handle: (sandbox, [phone = ''], body) => {
      if (typeof body.online !== 'boolean') throw new SandboxError(400, '"online" must be a boolean');
      sandbox.setPhonePresence(phone, body.online);
      return { online: body.online };
    },
  },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/blocklist$/, handle: (sandbox, [phone = '']) => sandbox.blocklistOf(phone) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/blocklist$/,
    handle: (sandbox, [phone = ''], body) => {
      if (typeof body.blocked !== 'boolean') throw new SandboxError(400, '"blocked" must be a boolean');
      return sandbox.setBlocked(phone, text(body, 'contact'), body.blocked);
    },
  },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/profile$/, handle: (sandbox, [phone = '']) => sandbox.profile(phone) },
  { method: 'POST', pattern: /^\/phones\/(\d+)\/profile$/, handle: (sandbox, [phone = ''], body) => sandbox.setProfile(phone, profileChange(body)) },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/presences$/, handle: (sandbox, [phone = '']) => sandbox.presences(phone) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/messages$/,
    handle: (sandbox, [phone = ''], body) => sandbox.sendMessage(phone, text(body, 'to'), outgoing(body)),
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/receipts$/,
    handle: async (sandbox, [phone = ''], body) => {
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new SandboxError(400, '"ids" must be an array of strings');
      const type = body.type === 'delivered' ? 'delivered' : body.type === 'read' ? 'read' : undefined;
      if (!type) throw new SandboxError(400, '"type" must be "delivered" or "read"');
      await sandbox.sendReceipt(phone, text(body, 'to'), ids as string[], type);
      return { sent: ids.length };
    },
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/lose-acks$/,
    handle: (sandbox, [phone = '']) => {
      sandbox.loseAcks(phone);
      return { applied: true };
    },
  },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/unacknowledged$/, handle: (sandbox, [phone = '']) => sandbox.unacknowledged(phone) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/presence$/,
    handle: async (sandbox, [phone = ''], body) => {
      const state = text(body, 'state');
      if (!PRESENCE_STATES.has(state)) throw new SandboxError(400, `"state" must be one of ${[...PRESENCE_STATES].join(', ')}`);
      await sandbox.sendPresence(phone, text(body, 'to'), state as PresenceState);
      return { sent: true };
    },
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/groups$/,
    handle: (sandbox, [phone = ''], body) => {
      const participants = Array.isArray(body.participants) ? body.participants.map(String) : [];
      return sandbox.createGroup(phone, text(body, 'subject'), participants);
    },
  },
  {
    method: 'GET',
    pattern: /^\/phones\/(\d+)\/media\/([^/]+)$/,
    handle: (sandbox, [phone = '', id = '']) => {
      const bytes = sandbox.receivedMedia(phone, decodeURIComponent(id));
      if (!bytes) throw new SandboxError(404, `phone ${phone} has no verified media for message ${id}`);
      return bytes;
    },
  },
  { method: 'POST', pattern: /^\/media\/expire$/, handle: (sandbox) => sandbox.expireMedia() },
  /** `{"status": 503}` starts an upload outage of the media hosts, `{"status": null}` ends it. */
  {
    method: 'POST',
    pattern: /^\/media\/outage$/,
    handle: (sandbox, _params, body) => {
      const status = body.status;
      // The range is checked where the outage is kept (the media server), for callers in code too.
      if (status !== null && typeof status !== 'number') throw new SandboxError(400, '"status" must be an HTTP error status (400-599), or null to end the outage');
      return sandbox.refuseMediaUploads(status ?? undefined);
    },
  },
  /** An upload auth as media_conn hands out, for clients that upload without a socket (benches). */
  { method: 'POST', pattern: /^\/media\/auth$/, handle: (sandbox) => sandbox.mediaUploadAuth() },
  { method: 'GET', pattern: /^\/media$/, handle: (sandbox) => ({ baseUrl: sandbox.mediaBaseUrl, caFile: sandbox.mediaCaFile, refusals: sandbox.mediaRefusals() }) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/app-state\/actions$/,
    handle: (sandbox, [phone = ''], body) => {
      const action = body.action as Body | undefined;
      if (!action || typeof action !== 'object' || !PHONE_CHAT_ACTIONS.includes(action.type as PhoneChatAction['type'])) {
        throw new SandboxError(400, `"action.type" must be one of ${PHONE_CHAT_ACTIONS.join(', ')}`);
      }
      return sandbox.phoneChatAction(phone, action as unknown as PhoneChatAction);
    },
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/statuses$/,
    handle: (sandbox, [phone = ''], body) => {
      const to = Array.isArray(body.to) ? body.to.map(String) : [];
      const style = {
        ...(typeof body.backgroundArgb === 'number' ? { backgroundArgb: body.backgroundArgb } : {}),
        ...(typeof body.font === 'number' ? { font: body.font } : {}),
      };
      return sandbox.postStatus(phone, text(body, 'text'), to, style);
    },
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/status-views$/,
    handle: async (sandbox, [phone = ''], body) => {
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new SandboxError(400, '"ids" must be an array of strings');
      await sandbox.viewStatus(phone, text(body, 'poster'), ids as string[]);
      return { viewed: ids.length };
    },
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/channels$/,
    handle: (sandbox, [phone = ''], body) => sandbox.createChannel(phone, text(body, 'name'), typeof body.description === 'string' ? body.description : undefined),
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/channels\/([^/]+)\/(follow|unfollow)$/,
    handle: (sandbox, [phone = '', key = '', verb = '']) => sandbox.followChannel(phone, decodeURIComponent(key), verb === 'follow'),
  },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/channels\/([^/]+)\/messages$/,
    handle: (sandbox, [phone = '', jid = ''], body) => sandbox.postToChannel(phone, decodeURIComponent(jid), text(body, 'text')),
  },
  { method: 'POST', pattern: /^\/channels\/([^/]+)\/admins$/, handle: (sandbox, [jid = ''], body) => sandbox.promoteChannelAdmin(decodeURIComponent(jid), text(body, 'phone')) },
  { method: 'GET', pattern: /^\/channels\/([^/]+)$/, handle: (sandbox, [jid = '']) => sandbox.channel(decodeURIComponent(jid)) },
  { method: 'GET', pattern: /^\/phones\/(\d+)\/app-state$/, handle: (sandbox, [phone = '']) => sandbox.appState(phone) },
  {
    method: 'POST',
    pattern: /^\/phones\/(\d+)\/business$/,
    handle: (sandbox, [phone = ''], body) => {
      if (typeof body.business !== 'boolean') throw new SandboxError(400, '"business" must be a boolean');
      sandbox.setBusiness(phone, body.business);
      return { business: body.business };
    },
  },
  { method: 'GET', pattern: /^\/server-identity$/, handle: (sandbox) => ({ identity: sandbox.serverIdentity }) },
  {
    method: 'POST',
    pattern: /^\/server-identity$/,
    handle: (sandbox, _params, body) => {
      const identity = text(body, 'identity');
      if (!SERVER_IDENTITIES.includes(identity as ServerIdentity)) {
        throw new SandboxError(400, `"identity" must be one of ${SERVER_IDENTITIES.join(', ')}`);
      }
      sandbox.setServerIdentity(identity as ServerIdentity);
      return { identity };
    },
  },
  { method: 'GET', pattern: /^\/handshakes$/, handle: (sandbox) => sandbox.listHandshakes() },
  { method: 'GET', pattern: /^\/devices$/, handle: (sandbox) => sandbox.listDevices() },
  { method: 'GET', pattern: /^\/devices\/logged-out$/, handle: (sandbox) => sandbox.listLoggedOut() },
  {
    method: 'POST',
    pattern: /^\/devices\/([^/]+)\/fault$/,
    handle: async (sandbox, [jid = ''], body) => {
      const kind = text(body, 'kind');
      if (!FAULT_KINDS.includes(kind as FaultKind)) throw new SandboxError(400, `"kind" must be one of ${FAULT_KINDS.join(', ')}`);
      await sandbox.fault(decodeURIComponent(jid), kind as FaultKind);
      return { applied: kind };
    },
  },
];

function seededMessages(body: Body): { fromMe: boolean; text: string; timestamp: number }[] {
  const messages = body.messages;
  const valid = (m: unknown): m is { fromMe: boolean; text: string; timestamp: number } => {
    const o = m as Body | null;
    return !!o && typeof o === 'object' && typeof o.fromMe === 'boolean' && typeof o.text === 'string' && Number.isInteger(o.timestamp) && (o.timestamp as number) > 0;
  };
  if (!Array.isArray(messages) || !messages.every(valid)) throw new SandboxError(400, '"messages" must be an array of {fromMe, text, timestamp (Unix seconds)}');
  return messages;
}

async function readBody(request: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (!chunks.length) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Body;
  } catch {
    throw new SandboxError(400, 'body must be a JSON object');
  }
}

function respond(response: ServerResponse, status: number, payload: unknown): void {
  if (Buffer.isBuffer(payload)) {
    response.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': String(payload.length) });
    return void response.end(payload);
  }
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(payload));
}

function profileChange(body: Body): ProfileChange {
  const { about, picture, privacy, contacts, business } = body;
  if (business !== undefined && business !== null && (typeof business !== 'object' || Array.isArray(business))) throw new SandboxError(400, '"business" must be an object or null');
  if (about !== undefined && typeof about !== 'string') throw new SandboxError(400, '"about" must be a string');
  if (picture !== undefined && picture !== null && typeof picture !== 'string') throw new SandboxError(400, '"picture" must be base64 JPEG or null');
  if (privacy !== undefined && (typeof privacy !== 'object' || privacy === null || Array.isArray(privacy))) throw new SandboxError(400, '"privacy" must be an object');
  if (contacts !== undefined && (!Array.isArray(contacts) || contacts.some((c) => typeof c !== 'string'))) throw new SandboxError(400, '"contacts" must be an array of phone numbers');
  return { ...(about !== undefined ? { about } : {}), ...(picture !== undefined ? { picture } : {}), ...(privacy ? { privacy } : {}), ...(contacts ? { contacts } : {}), ...(business !== undefined ? { business } : {}) } as ProfileChange;
}

/** Profile pictures as pps.whatsapp.net serves them: the JPEG itself, 404 once replaced or removed. */
function servePicture(sandbox: WaSandbox, path: string, response: ServerResponse): boolean {
  const match = /^\/pictures\/(\d+)\/(\d+)\.jpg$/.exec(path);
  if (!match) return false;
  const jpeg = sandbox.profiles.picture(match[1]!, match[2]!);
  if (!jpeg) respond(response, 404, { error: 'no such picture' });
  else {
    response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) });
    response.end(jpeg);
  }
  return true;
}

/** The control API: plain node:http, JSON in and out, loopback only (the sandbox has no auth). */
export async function handleControlRequest(sandbox: WaSandbox, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  if (request.method === 'GET' && servePicture(sandbox, path, response)) return;
  const route = routes.find((candidate) => candidate.method === request.method && candidate.pattern.test(path));
  try {
    if (!route) throw new SandboxError(404, `no route ${request.method} ${path}`);
    const params = route.pattern.exec(path)?.slice(1) ?? [];
    const body = request.method === 'POST' ? await readBody(request) : {};
    respond(response, request.method === 'POST' ? 201 : 200, await route.handle(sandbox, params, body));
  } catch (error) {
    if (error instanceof SandboxError) respond(response, error.status, { error: error.message });
    else respond(response, 500, { error: error instanceof Error ? error.message : String(error) });
  }
}
