import type { WaConnection, WaStatus } from '../../src';

/** The connection's next status in `state`; says what it waited for when it gives up. */
export function nextStatus(connection: WaConnection, state: WaStatus['state'], timeoutMs = 20_000): Promise<WaStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${state}" status within ${timeoutMs} ms (last: ${connection.status.state})`));
    }, timeoutMs);
    const off = connection.on('status', (s) => {
      if (s.state !== state) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}
