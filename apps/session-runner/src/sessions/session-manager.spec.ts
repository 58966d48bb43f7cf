import type { Repository } from 'typeorm';
import type { SqlAuthStateStore, WaConnection, WaEngine, WaReceived } from '@wa/wa-adapter';
import type { RunnerConfig } from '../config/runner.config';
import type { EventOutbox } from '../events/event-outbox';
import type { MessageStore } from '../messages/message-store';
import type { SendLog } from '../messages/send-log';
import type { ConnectionObservers } from './connection-observers';
import type { RunnerSessionEntity } from './runner-session.entity';
import type { Lease, SessionLeaseRepository } from './session-lease.repository';
import { SessionManager } from './session-manager';
import type { StatusRecorder } from './status-recorder';

/**
 * A write of what WhatsApp delivered waits while the runner checks a lease its clock says may have
 * run out. When that check cannot reach the database, the write waits for the next one; a session
 * let go of meanwhile is never checked again, so the write (and the Baileys handler awaiting it,
 * which holds the socket's message queue) must be refused then, not left waiting for good.
 */
describe(SessionManager.name, () => {
  const ref = { orgId: 'org-1', sessionId: 'sess-1' };
  const received: WaReceived = {
    kind: 'message',
    message: { key: { id: '3EB0AAAA', chatJid: '4917000000001@s.whatsapp.net', fromMe: false }, type: 'text', timestampMs: 1, raw: new Uint8Array() },
  } as unknown as WaReceived;

  function manager() {
    let receiptSink: ((r: WaReceived) => Promise<void>) | undefined;
    const connection = {
      sessionId: ref.sessionId,
      status: { state: 'connecting' },
      start: jest.fn(async () => undefined),
      stop: jest.fn(async () => undefined),
      dispose: jest.fn(async () => undefined),
      on: jest.fn(() => () => undefined),
      setReceiptSink: jest.fn((sink: typeof receiptSink) => {
        receiptSink = sink;
      }),
      setStatusSink: jest.fn(),
    };
    const engine = { connection: jest.fn(() => connection), isLoggedIn: jest.fn(async () => false) };
    const sessions = { findOneBy: jest.fn(async () => null), upsert: jest.fn(async () => undefined) };
    let lease: Lease | undefined;
    const leases = {
      acquire: jest.fn(async () => {
        lease = { sessionId: ref.sessionId, runnerId: 'runner-1', epoch: 1, expiresAt: Date.now() + 60_000 } as unknown as Lease;
        return lease;
      }),
      // The database does not answer the lease check.
      renewAll: jest.fn(async () => {
        throw new Error('connection terminated');
      }),
      release: jest.fn(async () => undefined),
    };
    const messages = { held: jest.fn(), released: jest.fn(), pairOf: jest.fn(async (_s: string, jid: string) => ({ jid })), isStored: jest.fn(async () => false) };
    const observers = { attach: jest.fn(() => () => undefined), beforeReceipt: jest.fn(async () => undefined) };
    const config = { runnerId: 'runner-1', leaseTtlMs: 30_000, reconnect: { concurrency: 4, jitterMs: 0 } };
    const m = new SessionManager(
      engine as unknown as WaEngine,
      {} as SqlAuthStateStore,
      sessions as unknown as Repository<RunnerSessionEntity>,
      leases as unknown as SessionLeaseRepository,
      messages as unknown as MessageStore,
      {} as SendLog,
      {} as EventOutbox,
      config as unknown as RunnerConfig,
      observers as unknown as ConnectionObservers,
      {} as StatusRecorder,
    );
    return {
      m,
      leases,
      observers,
      sink: () => receiptSink,
      expireLease: () => {
        if (lease) (lease as { expiresAt: number }).expiresAt = Date.now() - 1;
      },
    };
  }

  const outcome = (p: Promise<unknown>) =>
    Promise.race([p.then(() => 'stored', () => 'refused'), new Promise((resolve) => setImmediate(() => resolve('waiting')))]);

  it('refuses a write that waits for a lease check when the session is stopped', async () => {
    const { m, leases, observers, sink, expireLease } = manager();
    await m.start(ref);
    const store = sink();
    if (!store) throw new Error('no receipt sink was set');
    expireLease();

    const write = store(received);
    write.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    // The check was tried, failed, and the write waits for the next one.
    expect(leases.renewAll).toHaveBeenCalled();
    expect(await outcome(write)).toBe('waiting');

    await m.stop(ref);
    expect(await outcome(write)).toBe('refused');
    await expect(write).rejects.toMatchObject({ code: 'session_unavailable' });
    expect(observers.beforeReceipt).not.toHaveBeenCalled();
    expect(leases.release).toHaveBeenCalledWith(ref.sessionId, 'runner-1');
  });
});
