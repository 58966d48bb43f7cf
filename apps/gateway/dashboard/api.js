// Calls to the gateway's REST API with the signed-in key; error envelopes become ApiError.
const KEY_STORAGE = 'wa-gateway.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function authHeaders(extra = {}) {
  return { authorization: `Bearer ${apiKey.get() ?? ''}`, ...extra };
}

/** One readable sentence from an error envelope, with the failing fields when there are any. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const fields = Array.isArray(err.details?.fields)
    ? err.details.fields.map((f) => `${f.field}: ${(f.problems ?? []).join(', ')}`).join('; ')
    : '';
  const retry = err.details?.retryAfterSeconds ? ` Retry in ${err.details.retryAfterSeconds} s.` : '';
  return `${err.message}${fields ? ` (${fields})` : ''}.${retry} [${err.code}, HTTP ${err.status}]`;
}

async function failure(res) {
  const body = await res.json().catch(() => undefined);
  const e = body?.error;
  if (e && typeof e.code === 'string') return new ApiError(res.status, e.code, e.message ?? e.code, e.details ?? {});
  return new ApiError(res.status, 'http_error', `the gateway answered HTTP ${res.status}`, {});
}

/** `path` is relative to /api/v1. Resolves with the parsed JSON (undefined for 204). */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = authHeaders({ accept: 'application/json' });
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return res.status === 204 ? undefined : res.json();
}

/** The pending QR as an image blob (the PNG route needs the Authorization header, so no <img src>). */
export async function qrPng(sessionId) {
  const res = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionId)}/qr`, { headers: authHeaders({ accept: 'image/png' }) });
  if (!res.ok) throw await failure(res);
  return res.blob();
}

export const enc = encodeURIComponent;
