import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long, and how much of, the unread rest of a refused body is read and dropped before the
 * socket is cut: long enough for a client still sending to read the answer, and a byte cap so a
 * fast link cannot make it more than a few buffers' worth of work. 5 s as nginx's
 * lingering_timeout: with 2 s, a client on a loaded machine that was still writing had not read
 * the answer yet when the reset came (the http-edge flood test failed that way in CI).
 */
const LINGER_MS = 5000;
const LINGER_MAX_BYTES = 32 * 1024 * 1024;
const LINGER_CHECK_MS = 20;

const lingering = new WeakSet<Socket>();

/**
 * Closes the connection of an answered request whose body was not read, without losing the
 * answer. Destroying the socket at once would make the kernel send a reset while the client is
 * still sending, and a reset makes the client's kernel drop the answer it has not read yet. So
 * (as nginx's lingering close does) the answer goes out, our side is closed with a FIN, and
 * what still arrives is read and dropped until the client closes, LINGER_MS has passed or
 * LINGER_MAX_BYTES were dropped (by then the client has had the answer; more is only load).
 * Node calls `destroySoon` itself once a `Connection: close` response is finished.
 */
export function lingerBeforeClose(raw: IncomingMessage): void {
  const socket = raw.socket as Socket & { destroySoon?: () => void };
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.destroySoon = () => {
    socket.end();
    raw.unpipe();
    raw.removeAllListeners('data');
    // Node dumps an unread body once the answer is finished: the parser then discards it without
    // 'data' events, so what was dropped is counted on the socket itself.
    const readBefore = socket.bytesRead;
    const check = setInterval(() => {
      if (socket.bytesRead - readBefore > LINGER_MAX_BYTES) socket.destroy();
    }, LINGER_CHECK_MS);
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    check.unref();
    timer.unref();
    socket.once('close', () => {
      clearInterval(check);
      clearTimeout(timer);
    });
  };
}
