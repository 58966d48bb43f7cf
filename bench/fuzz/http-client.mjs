// node:http rather than fetch: it sends what the case says (a path with broken percent-encoding,
// latin1 bytes in a header, a body that is not valid UTF-8, two Authorization lines), and a
// request can be abandoned after the answer's head (the event stream never ends).
import { Agent, request } from 'node:http';

// Enough to parse any error answer whole (some echo every item of a large body back).
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * @param {{ base: URL, agent: Agent }} target
 * @param {{ method: string, path: string, headers: Record<string, string|string[]>, body?: Buffer }} req
 * @returns {Promise<{ status: number, headers: Record<string, string|string[]|undefined>, body: string, ms: number, error?: string, timedOut?: boolean }>}
 */
export function send(target, req, timeoutMs) {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let timer;
    const finish = (answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, ...answer });
    };
    let r;
    try {
      r = request({
        host: target.base.hostname,
        port: target.base.port,
        method: req.method,
        path: req.path,
        headers: req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers,
        agent: target.agent,
      });
    } catch (err) {
      finish({ status: 0, headers: {}, body: '', error: `client refused to send: ${err.code ?? err.message}` });
      return;
    }
    timer = setTimeout(() => {
      finish({ status: 0, headers: {}, body: '', timedOut: true, error: `no answer within ${timeoutMs} ms` });
      r.destroy();
    }, timeoutMs);
    r.on('response', (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      if (contentType.startsWith('text/event-stream')) {
        // An endless stream: the head is the answer.
        finish({ status: res.statusCode, headers: res.headers, body: '' });
        res.destroy();
        return;
      }
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        if (size < MAX_BODY_BYTES) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: `answer broken off: ${err.code ?? err.message}` }));
      res.on('aborted', () => finish({ status: res.statusCode, headers: res.headers, body: '', error: 'answer broken off' }));
    });
    r.on('error', (err) => finish({ status: 0, headers: {}, body: '', error: `connection failed: ${err.code ?? err.message}` }));
    r.end(req.body);
  });
}

export function makeTarget(url, connections) {
  return { base: new URL(url), agent: new Agent({ keepAlive: true, maxSockets: connections }) };
}
