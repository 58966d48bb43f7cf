import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SOAK = join(__dirname, '../../../scripts/soak.mjs');
const REPORT = join(__dirname, '../test-output/soak-report.txt');
// 5 minutes in CI; SOAK_MINUTES=2 for a quicker look while developing.
const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
// Linking, the final drain (at most 120 s) and stopping the cluster come on top of the traffic.
const OVERHEAD_MS = 8 * 60_000;

interface Figures {
  messages: { sent: number; lost: number; duplicated: number };
  inbound: { sent: number; lost: number; duplicated: number };
  events: { recorded: number; lost: number; duplicated: number; sequenceGaps: number };
  unexpectedExits: string[];
}

/**
 * Scale-out only: `pnpm soak` on its own cluster (sandbox, 2 gateways, 3 runners, PostgreSQL,
 * NATS) with every kind of write, the phones answering, a webhook receiver that is slow and
 * down at times, sessions stopped and started, a runner and a gateway killed with SIGKILL.
 * Nothing accepted may be lost or arrive twice, and no process may keep growing.
 */
describe('soak: mixed traffic with faults on the scale-out cluster', () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // An interrupted run still stops its cluster: the soak does that on SIGTERM.
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it(
    `loses and duplicates no message and no event over ${MINUTES} minutes, with flat memory and descriptors`,
    async () => {
      child = spawn(process.execPath, [SOAK, '--minutes', String(MINUTES)], {
        env: {
          PATH: process.env.PATH ?? '',
          SCALEOUT_DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test',
          SCALEOUT_NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child?.once('exit', resolve));
      mkdirSync(join(REPORT, '..'), { recursive: true });
      writeFileSync(REPORT, output);

      const line = /^SOAK_RESULT (.*)$/m.exec(output)?.[1];
      if (!line) throw new Error(`the soak ended (${code}) without its result; output in ${REPORT}:\n${output.slice(-4000)}`);
      const r = JSON.parse(line) as Figures;
      // Every figure next to its target, so a failure names all of them at once (the report is in REPORT).
      expect({
        messagesLost: r.messages.lost,
        messagesDuplicated: r.messages.duplicated,
        inboundLost: r.inbound.lost,
        inboundDuplicated: r.inbound.duplicated,
        eventsLost: r.events.lost,
        eventsDuplicated: r.events.duplicated,
        sequenceGaps: r.events.sequenceGaps,
        unexpectedExits: r.unexpectedExits,
      }).toEqual({
        messagesLost: 0,
        messagesDuplicated: 0,
        inboundLost: 0,
        inboundDuplicated: 0,
        eventsLost: 0,
        eventsDuplicated: 0,
        sequenceGaps: 0,
        unexpectedExits: [],
      });
      expect(r.messages.sent).toBeGreaterThan(0);
      expect(r.inbound.sent).toBeGreaterThan(0);
      expect(r.events.recorded).toBeGreaterThan(0);
      // The soak judges growth itself (bounds printed in its report); 0 is its verdict on all of it.
      expect(code).toBe(0);
    },
    MINUTES * 60_000 + OVERHEAD_MS,
  );
});
