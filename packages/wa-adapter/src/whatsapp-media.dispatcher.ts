/** The host Baileys fetches app-state snapshots and history blobs from, whatever the socket talks to. */
const WHATSAPP_MEDIA_ORIGIN = 'https://mmg.whatsapp.net';
/** Where every copy of undici (Node's fetch included) keeps the process-wide dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface DispatchOptions {
  origin?: string | URL;
  path: string;
  [key: string]: unknown;
}
interface Dispatcher {
  dispatch(options: DispatchOptions, handler: unknown): boolean;
}

/**
 * A fetch dispatcher for Baileys' `options` that sends what Baileys fetches from WhatsApp's media
 * host (app-state snapshots, history blobs: it takes no other host for them) to `baseUrl`
 * (`WA_MEDIA_BASE_URL`), through Node's own fetch dispatcher, so TLS trust (NODE_EXTRA_CA_CERTS)
 * and pooling stay Node's. Undefined when `baseUrl` is WhatsApp's host itself.
 */
export function whatsappMediaDispatcher(baseUrl: string): Dispatcher | undefined {
  const target = new URL(baseUrl);
  const prefix = target.pathname.replace(/\/$/, '');
  if (target.origin === WHATSAPP_MEDIA_ORIGIN && !prefix) return undefined;
  const global = (): Dispatcher => {
    const dispatcher = (globalThis as Record<symbol, Dispatcher | undefined>)[GLOBAL_DISPATCHER];
    if (!dispatcher) throw new Error('no global fetch dispatcher: fetch is not undici');
    return dispatcher;
  };
  return {
    dispatch(options, handler) {
      if (String(options.origin ?? '').replace(/\/$/, '') !== WHATSAPP_MEDIA_ORIGIN) return global().dispatch(options, handler);
      return global().dispatch({ ...options, origin: target.origin, path: `${prefix}${options.path}` }, handler);
    },
  };
}
