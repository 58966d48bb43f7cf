// The gateway's SSE stream read with fetch (EventSource cannot send the Authorization header).
// Reconnects with Last-Event-ID, so no event is lost or repeated across a dropped connection.
import { authHeaders } from './api.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;

/**
 * Calls onEvent({id, type, data}) for each event and onState('live' | 'connecting' | message)
 * as the connection changes; onOpen runs each time the stream is (re)established, after which
 * no event is missed. Returns a function that closes the stream.
 */
export function openEventStream({ onEvent, onState, onOpen }) {
  const abort = new AbortController();
  let lastEventId;
  let delay = RETRY_MIN_MS;

  const run = async () => {
    while (!abort.signal.aborted) {
      onState('connecting');
      try {
        const headers = authHeaders({ accept: 'text/event-stream' });
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const res = await fetch('/api/v1/events', { headers, signal: abort.signal, cache: 'no-store' });
        if (!res.ok || !res.body) throw new Error(`event stream answered HTTP ${res.status}`);
        delay = RETRY_MIN_MS;
        onState('live');
        await onOpen();
        await readEvents(res.body, (event) => {
          lastEventId = event.id ?? lastEventId;
          onEvent(event);
        });
      } catch (err) {
        if (abort.signal.aborted) return;
        onState(`disconnected (${err.message}); retrying`);
      }
      if (abort.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  };
  void run();
  return () => abort.abort();
}

async function readEvents(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended');
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const event = parseBlock(block);
      if (event) emit(event);
    }
  }
}

function parseBlock(block) {
  const event = { type: 'message', data: '' };
  let hasData = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') event.id = value;
    else if (field === 'event') event.type = value;
    else if (field === 'data') {
      event.data += (hasData ? '\n' : '') + value;
      hasData = true;
    }
  }
  if (!hasData) return undefined;
  try {
    event.data = JSON.parse(event.data);
  } catch {
    return undefined;
  }
  return event;
}
