import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portPicker } from './testing';

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
const close = (srv: Server): Promise<void> => new Promise((resolve) => srv.close(() => resolve()));

describe('freePort', () => {
  // Another test process: a child that waits on its stdin until killed.
  let other: ChildProcess;
  let exitedPid: number;
  beforeAll(async () => {
    other = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => gone.once('exit', r));
    exitedPid = gone.pid as number;
  });
  afterAll(() => other.kill());

  /** A range of `size` ports that nobody listens on, in the test range (it is below the kernel's). */
  async function quietRange(size: number): Promise<{ from: number; to: number }> {
    for (;;) {
      const from = 20_000 + Math.floor(Math.random() * 12_000);
      const servers: Server[] = [];
      let ok = true;
      for (let port = from; port < from + size; port++) {
        const srv = await listen(port).catch(() => undefined);
        if (!srv) ok = false;
        else servers.push(srv);
      }
      await Promise.all(servers.map(close));
      if (ok) return { from, to: from + size - 1 };
    }
  }

  it('hands out distinct ports below the outgoing range, reserved for this process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-ports-'));
    const range = await quietRange(8);
    const pick = portPicker({ dir, range });
    const ports: number[] = [];
    for (let i = 0; i < 8; i++) ports.push(await pick());
    expect([...ports].sort()).toEqual(Array.from({ length: 8 }, (_, i) => range.from + i));
    for (const port of ports) expect(readFileSync(join(dir, String(port)), 'utf8')).toBe(String(process.pid));
    // The ninth finds the range spent and takes one of the kernel's instead of a reserved one.
    expect(await pick()).toBeGreaterThanOrEqual(32_768);
  });

  it('never hands out a port another live process reserved, and takes over lapsed reservations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-ports-'));
    const range = await quietRange(4);
    const [heldByOther, ofExited, tooOld, unreserved] = [0, 1, 2, 3].map((i) => range.from + i);
    writeFileSync(join(dir, String(heldByOther)), String(other.pid));
    writeFileSync(join(dir, String(ofExited)), String(exitedPid));
    writeFileSync(join(dir, String(tooOld)), String(other.pid));
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    utimesSync(join(dir, String(tooOld)), elevenMinutesAgo, elevenMinutesAgo);
    const pick = portPicker({ dir, range });
    const got = [await pick(), await pick(), await pick()].sort();
    expect(got).toEqual([ofExited, tooOld, unreserved]);
    expect(readFileSync(join(dir, String(heldByOther)), 'utf8')).toBe(String(other.pid));
    // Another picker stands for another jest module registry of this same process: what this
    // process reserved is held by a live process for it too.
    const again = portPicker({ dir, range, attempts: 50 });
    expect(await again()).toBeGreaterThanOrEqual(32_768);
  });

  it('skips a port somebody listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-ports-'));
    const range = await quietRange(2);
    const busy = await listen(range.from);
    try {
      const pick = portPicker({ dir, range, attempts: 50 });
      expect(await pick()).toBe(range.to);
    } finally {
      await close(busy);
    }
  });

  it('is the machine-wide picker over the test range', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThan(32_768);
    expect(readFileSync(join(tmpdir(), 'wa-test-ports', String(port)), 'utf8')).toBe(String(process.pid));
  });
});
