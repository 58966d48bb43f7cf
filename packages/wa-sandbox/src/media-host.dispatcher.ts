import { Agent, request } from 'node:https';

/** The parts of undici's `Dispatcher` handler that Node's fetch hands a dispatcher. */
interface FetchHandler {
  onConnect?(abort: (error?: Error) => void): void;
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean | void;
  onData?(chunk: Buffer): boolean | void;
  onComplete?(trailers: Buffer[]): void;
  onError?(error: Error): void;
}

interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
  headers?: Record<string, string | string[]> | string[] | null;
}

/** The only host Baileys fetches app-state and history blobs from (it ignores any other). */
const WHATSAPP_MEDIA_ORIGIN = 'https://mmg.whatsapp.net';
/** Where every copy of undici (Node's fetch included) keeps the process-wide dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * A fetch dispatcher (Baileys' `options.dispatcher`) that sends what Baileys asks of WhatsApp's
 * media host to the sandbox's, trusting the sandbox's CA, over `node:https`: an in-process test
 * cannot make Node's fetch trust a CA made after start (NODE_EXTRA_CA_CERTS is read once).
 * Other origins go to Node's own dispatcher, as without this one.
 */
export function sandboxMediaDispatcher(mediaBaseUrl: string, ca: string): { dispatch(options: DispatchOptions, handler: FetchHandler): boolean } {
  // An agent of its own: the global agent's options override a request's, CA included.
  const agent = new Agent({ ca });
  return {
    dispatch(options, handler) {
      const origin = String(options.origin ?? '').replace(/\/$/, '');
      if (origin !== WHATSAPP_MEDIA_ORIGIN) {
        const global = (globalThis as Record<symbol, { dispatch(o: DispatchOptions, h: FetchHandler): boolean } | undefined>)[GLOBAL_DISPATCHER];
        if (!global) throw new Error('no global fetch dispatcher: fetch is not undici');
        return global.dispatch(options, handler);
      }
      const url = new URL(options.path, mediaBaseUrl);
      const headers: Record<string, string | string[]> = {};
      if (Array.isArray(options.headers)) for (let i = 0; i + 1 < options.headers.length; i += 2) headers[options.headers[i]!] = options.headers[i + 1]!;
      else Object.assign(headers, options.headers ?? {});
      const req = request(url, { method: options.method ?? 'GET', headers, agent }, (res) => {
        const raw = res.rawHeaders.map((value) => Buffer.from(value, 'latin1'));
        if (handler.onHeaders?.(res.statusCode ?? 0, raw, () => res.resume(), res.statusMessage ?? '') === false) res.pause();
        res.on('data', (chunk: Buffer) => {
          if (handler.onData?.(chunk) === false) res.pause();
        });
        res.on('end', () => handler.onComplete?.([]));
        res.on('error', (error) => handler.onError?.(error));
      });
      req.on('error', (error) => handler.onError?.(error));
      handler.onConnect?.((error) => req.destroy(error));
      req.end();
      return true;
    },
  };
}
