import type { WaConnection, WaStatus } from '../../src';

/**
 * The connection's next status in `state` (or in any of several); says what it waited for when it
 * gives up. One wait for several states, not a race of waits: the loser of a race would keep its
 * timer running, and its rejection pending, long after the test.
 */
export function nextStatus(connection: WaConnection, state: WaStatus['state'] | WaStatus['state'][], timeoutMs = 20_000): Promise<WaStatus> {
  const states: WaStatus['state'][] = Array.isArray(state) ? state : [state];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${states.join('" or "')}" status within ${timeoutMs} ms (last: ${connection.status.state})`));
    }, timeoutMs);
    const off = connection.on('status', (s) => {
      if (!states.includes(s.state)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}
