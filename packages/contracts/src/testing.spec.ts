import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { freePort } from './testing';

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });

describe('freePort', () => {
  it('gives ports below the kernel range for outgoing connections that a server can take', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const servers: Server[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const port = await freePort();
        expect(port).toBeGreaterThanOrEqual(20_000);
        expect(port).toBeLessThan(low ?? 32_768);
        servers.push(await listen(port));
      }
      // Twenty taken at once: none was handed out twice.
      expect(new Set(servers.map((s) => (s.address() as { port: number }).port)).size).toBe(20);
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
