import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { transactionInTurn, type EventDataByType, type EventType, type GroupParticipantAction, type MessageEventBase, type SessionRef, type SessionStateResult } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import type { SqlAuthStateStore, WaConnection, WaEngine, WaGroupParticipantsAction, WaIncomingMessage, WaMe, WaMessageKey, WaReceived, WaStatus } from '@wa/wa-adapter';
import { Repository } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { SEND_LOG_RETENTION_MS, SendLog } from '../messages/send-log';
import { ConnectionObservers } from './connection-observers';
import { RunnerSessionEntity, type DesiredState } from './runner-session.entity';
import { SessionLeaseRepository, type Lease } from './session-lease.repository';
import { receivedContent, toSessionStatus } from './session-events.mapper';
import { StatusRecorder } from './status-recorder';
import { AUTH_STATE_STORE, WA_ENGINE } from './wa-engine.provider';

/** WhatsApp's participant actions as the `group.participants` event names them. */
const GROUP_ACTIONS: Record<WaGroupParticipantsAction, GroupParticipantAction> = {
  add: 'added',
  remove: 'removed',
  promote: 'promoted',
  demote: 'demoted',
  leave: 'left',
};

interface OwnedSession {
  orgId: string;
  lease: Lease;
  connection: WaConnection;
  unsubscribe: () => void;
  /** Set once this runner found the lease gone: nothing of this session may act any more. */
  fenced: boolean;
  /** Set while the lease, expired by our clock, is being checked against the database. */
  checking: boolean;
  /** Socket events that came in while checking, run in order once the lease proves ours. */
  pending: Array<() => void>;
  /** Writes that wait for the check's outcome (`leaseHeld`): true once the lease is ours again, false if fenced. */
  waiters: Array<(held: boolean) => void>;
}

/** Events held back while a lease is checked; past this the session is let go of rather than buffered without end. */
const MAX_PENDING_EVENTS = 10_000;

/**
 * Waits between the attempts to store what WhatsApp delivered (a message, a receipt's statuses)
 * when the database refused it: its ack goes only once it is stored, and WhatsApp delivers an
 * unacknowledged stanza again only at the next login, which a runner that keeps its connection
 * never makes. About half a minute in all, then it waits for that login after all.
 */
const STORE_RETRY_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000];

/** How long a resume waits for a session to reach a settled state before its slot goes to the next. */
const RESUME_SETTLE_MS = 20_000;
const SEND_LOG_PRUNE_EVERY_MS = 3_600_000;
const SETTLED: WaStatus['state'][] = ['connected', 'qr', 'pairing', 'logged_out', 'failed', 'stopped'];

/** How long logout/delete of a stopped, linked session waits for a socket to tell WhatsApp. */
const UNLINK_CONNECT_TIMEOUT_MS = 15_000;

/**
 * Owns this runner's WhatsApp connections. A connection is opened only while this runner holds
 * the session's lease; a lost lease closes it at once (without touching the credentials), so
 * two runners never run one account. Sessions the gateway asked to run are resumed after a
 * restart, and ones whose owner died are taken over once its lease expires.
 */
@Injectable()
export class SessionManager implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionManager.name);
  private readonly owned = new Map<string, OwnedSession>();
  /** Serializes commands per session, so that start/stop/delete never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  /** Sessions queued or running in a resume slot (RECONNECT_CONCURRENCY bounds the running ones). */
  private readonly resuming = new Set<string>();
  private resumeSlots = 0;
  private lastPrune = 0;
  private readonly resumeQueue: Array<() => void> = [];

  constructor(
    @Inject(WA_ENGINE) private readonly engine: WaEngine,
    @Inject(AUTH_STATE_STORE) private readonly authStore: SqlAuthStateStore,
    @InjectRepository(RunnerSessionEntity) private readonly sessions: Repository<RunnerSessionEntity>,
    private readonly leases: SessionLeaseRepository,
    private readonly messages: MessageStore,
    private readonly sendLog: SendLog,
    private readonly events: EventOutbox,
    private readonly config: RunnerConfig,
    private readonly observers: ConnectionObservers,
    private readonly statuses: StatusRecorder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.maintainLeases();
    this.leaseTimer = setInterval(() => void this.maintainLeases(), Math.floor(this.config.leaseTtlMs / 3));
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.leaseTimer);
    // Close sockets but keep `desired`: whichever runner starts next resumes these sessions.
    await Promise.all(
      [...this.owned.keys()].map((sessionId) =>
        this.exclusive(sessionId, async () => {
          const owned = this.owned.get(sessionId);
          if (owned) await this.disown(sessionId, owned);
        }),
      ),
    );
  }

  /** Starting an unlinked session offers a QR; a linked one logs in with its stored credentials. */
  start(ref: SessionRef): Promise<SessionStateResult> {
    return this.exclusive(ref.sessionId, async () => {
      await this.checkOrg(ref);
      await this.setDesired(ref, 'running');
      const owned = await this.own(ref);
      await owned.connection.start();
      return this.stateOf(ref.sessionId);
    });
  }

  stop(ref: SessionRef): Promise<SessionStateResult> {
    return this.exclusive(ref.sessionId, async () => {
      await this.checkOrg(ref);
      await this.setDesired(ref, 'stopped');
      const owned = this.owned.get(ref.sessionId);
      if (owned) {
        await owned.connection.stop();
        await this.disown(ref.sessionId, owned);
      }
      return this.stateOf(ref.sessionId);
    });
  }

  logout(ref: SessionRef): Promise<SessionStateResult> {
    return this.exclusive(ref.sessionId, async () => {
      await this.checkOrg(ref);
      await this.setDesired(ref, 'stopped');
      await this.unlink(ref);
      await this.events.record(ref.orgId, ref.sessionId, 'session.status', { status: 'logged_out' });
      // Unlinked and let go of: not merely `stopped`, which is what a session without a socket looks like.
      return { sessionId: ref.sessionId, status: 'logged_out', linked: false, at: Date.now() };
    });
  }

  /** Unlinks the device when it is linked, then forgets the session entirely. */
  delete(ref: SessionRef): Promise<void> {
    return this.exclusive(ref.sessionId, async () => {
      await this.checkOrg(ref);
      await this.unlink(ref);
      await this.messages.forgetSession(ref.sessionId);
      await this.sendLog.forgetSession(ref.sessionId);
      await this.sessions.delete({ sessionId: ref.sessionId });
      await this.leases.remove(ref.sessionId);
    });
  }

  /**
   * Tells WhatsApp to drop the linked device, then wipes the credentials. Logging out needs an
   * open socket, so a linked session that is not running gets one just for that, under our
   * lease. When WhatsApp cannot be reached the credentials are wiped anyway: the user asked to
   * forget the device, and can still remove it from the phone's list of linked devices.
   */
  private async unlink(ref: SessionRef): Promise<void> {
    let owned = this.owned.get(ref.sessionId);
    if (!owned && (await this.engine.isLoggedIn(ref.sessionId))) {
      owned = await this.own(ref);
      await owned.connection.start();
      await this.waitFor(owned.connection, ['connected', 'logged_out', 'failed'], UNLINK_CONNECT_TIMEOUT_MS).catch((err: Error) =>
        this.logger.warn({ msg: 'could not reach WhatsApp to unlink the device; wiping its credentials anyway', sessionId: ref.sessionId, error: err.message }),
      );
    }
    if (owned) {
      await owned.connection.logout();
      await this.disown(ref.sessionId, owned);
    }
    await this.authStore.clear(ref.sessionId);
  }

  async qr(ref: SessionRef): Promise<string> {
    await this.checkOrg(ref);
    const qr = this.owned.get(ref.sessionId)?.connection.qr;
    if (!qr) throw new AppError('not_found', 'no QR code is pending for this session', { reason: 'no_qr_pending', sessionId: ref.sessionId });
    return qr;
  }

  pairingCode(ref: SessionRef, phoneNumber: string): Promise<string> {
    return this.exclusive(ref.sessionId, async () => {
      await this.checkOrg(ref);
      if (await this.engine.isLoggedIn(ref.sessionId)) throw new AppError('conflict', 'the session is already linked to a phone');
      await this.setDesired(ref, 'running');
      const owned = await this.own(ref);
      await owned.connection.start();
      return owned.connection.requestPairingCode(phoneNumber);
    });
  }

  async state(ref: SessionRef): Promise<SessionStateResult> {
    await this.checkOrg(ref);
    return this.stateOf(ref.sessionId);
  }

  /** Whether this runner holds the session's connection, under a lease that is still ours. */
  owns(sessionId: string): boolean {
    const owned = this.owned.get(sessionId);
    return owned !== undefined && this.holds(owned);
  }

  /** The open connection of a session this runner owns, for sending. */
  connected(ref: SessionRef): WaConnection {
    const owned = this.owned.get(ref.sessionId);
    if (owned && !this.holds(owned)) throw new AppError('session_unavailable', 'this runner no longer holds the session', { sessionId: ref.sessionId });
    if (!owned || owned.orgId !== ref.orgId) throw new AppError('session_not_connected', 'the session is not running on this runner', { sessionId: ref.sessionId });
    if (owned.connection.status.state !== 'connected') {
      throw new AppError('session_not_connected', `the session is ${toSessionStatus(owned.connection.status).status}`, { sessionId: ref.sessionId });
    }
    return owned.connection;
  }

  /** True when `connected(ref)` would return a connection. */
  isConnectedFor(ref: SessionRef): boolean {
    const owned = this.owned.get(ref.sessionId);
    return !!owned && owned.orgId === ref.orgId && this.holds(owned) && owned.connection.status.state === 'connected';
  }

  /** Our own account: as connected now, else as last connected (kept across restarts). */
  async me(sessionId: string): Promise<WaMe | undefined> {
    const status = this.owned.get(sessionId)?.connection.status;
    if (status?.state === 'connected') return status.me;
    const row = await this.sessions.findOneBy({ sessionId });
    return row?.meJid ? { jid: row.meJid, ...(row.meLid ? { lid: row.meLid } : {}) } : undefined;
  }

  /** For reads and writes on an existing session: unknown or another org's answers "not found". */
  async requireSession(ref: SessionRef): Promise<void> {
    const row = await this.sessions.findOneBy({ sessionId: ref.sessionId });
    if (!row || row.orgId !== ref.orgId) throw new AppError('not_found', 'session not found', { sessionId: ref.sessionId });
  }

  private async stateOf(sessionId: string): Promise<SessionStateResult> {
    const at = Date.now();
    const linked = await this.engine.isLoggedIn(sessionId);
    const owned = this.owned.get(sessionId);
    if (!owned) return { sessionId, status: 'stopped', linked, at };
    const s = toSessionStatus(owned.connection.status);
    return { sessionId, status: s.status, ...(s.reason ? { reason: s.reason } : {}), ...(s.me ? { me: s.me } : {}), linked, at };
  }

  /** A session id belongs to one org for its whole life; another org naming it gets "not found". */
  private async checkOrg(ref: SessionRef): Promise<void> {
    const row = await this.sessions.findOneBy({ sessionId: ref.sessionId });
    if (row && row.orgId !== ref.orgId) throw new AppError('not_found', 'session not found');
  }

  private async setDesired(ref: SessionRef, desired: DesiredState): Promise<void> {
    await this.sessions.upsert({ sessionId: ref.sessionId, orgId: ref.orgId, desired, updatedAt: Date.now() }, ['sessionId']);
  }

  private async own(ref: SessionRef): Promise<OwnedSession> {
    const owned = await this.tryOwn(ref);
    if (!owned) throw new AppError('session_unavailable', 'another session runner owns this session right now', { sessionId: ref.sessionId });
    return owned;
  }

  private async tryOwn(ref: SessionRef): Promise<OwnedSession | undefined> {
    const existing = this.owned.get(ref.sessionId);
    if (existing && !existing.fenced) {
      if (this.holds(existing)) return existing;
      throw new AppError('session_unavailable', "this runner is checking its lease of the session; try again", { sessionId: ref.sessionId });
    }
    const lease = await this.leases.acquire(ref.sessionId, this.config.runnerId, this.config.leaseTtlMs);
    if (!lease) return undefined;
    const connection = this.engine.connection(ref.sessionId);
    const owned: OwnedSession = { orgId: ref.orgId, lease, connection, unsubscribe: () => undefined, fenced: false, checking: false, pending: [], waiters: [] };
    // Every listener, ours and the observers', sees the connection through the fence.
    owned.unsubscribe = this.subscribe(ref, owned, fencedView(connection, (run) => this.gate(owned, run)));
    this.owned.set(ref.sessionId, owned);
    this.messages.held(ref.sessionId);
    return owned;
  }

  private async disown(sessionId: string, owned: OwnedSession): Promise<void> {
    // Writes still waiting for a lease check give up: no later check looks at a session let go of.
    this.refuseWaiters(owned);
    owned.unsubscribe();
    await owned.connection.dispose();
    this.owned.delete(sessionId);
    this.messages.released(sessionId);
    await this.leases.release(sessionId, this.config.runnerId);
  }

  /**
   * Whether the lease of `owned` is still ours by our own clock, with a margin for clock skew
   * between runners. Checked before acting on any socket event, command or timer of the session.
   * A runner that was paused (SIGSTOP, a long GC or event-loop stall, a partition) past its lease
   * finds out here, before it handles the socket traffic that piled up meanwhile: the session's
   * events wait while the lease is checked in the database, and run once it proves ours (nobody
   * took it), or are dropped with the socket when it is another runner's now.
   */
  private holds(owned: OwnedSession): boolean {
    if (owned.fenced || owned.checking) return false;
    if (Date.now() < owned.lease.expiresAt - this.fenceMarginMs()) return true;
    owned.checking = true;
    void this.checkLeases([owned]);
    return false;
  }

  /**
   * Whether this runner may write for the session now, waiting when its clock says the lease may
   * have run out until the check against the database tells: a stall of the event loop longer
   * than the lease (a loaded machine) otherwise made the first write after it fail though nobody
   * had taken the lease. For a receipt that failure was a loss until the next login: its ack is
   * held back, and WhatsApp delivers it again only then.
   */
  private leaseHeld(owned: OwnedSession): boolean | Promise<boolean> {
    if (this.holds(owned)) return true;
    if (owned.fenced) return false;
    return new Promise((resolve) => owned.waiters.push(resolve));
  }

  /**
   * Stores what WhatsApp delivered before its ack goes, while the lease is ours. A write the
   * database refuses (a lost connection, a lock or busy timeout, a failover) is tried again a few
   * times over about half a minute, as long as the session is still this runner's: giving up
   * holds the ack back until the next login. Each attempt is whole: a message and its event are
   * one transaction, a status and its event one statement.
   */
  private async storeDelivered(owned: OwnedSession, sessionId: string, what: 'message' | 'receipt', work: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (!(await this.leaseHeld(owned))) throw new AppError('session_unavailable', 'the lease of this session is not held');
      try {
        return await work();
      } catch (err) {
        const delay = STORE_RETRY_DELAYS_MS[attempt];
        const error = err instanceof Error ? err.message : String(err);
        if (delay === undefined || this.owned.get(sessionId) !== owned || owned.fenced) {
          this.logger.warn({ msg: `${what} not stored; WhatsApp will deliver it again at the next login`, sessionId, attempts: attempt + 1, error });
          throw err;
        }
        this.logger.warn({ msg: `${what} not stored; trying again`, sessionId, attempt: attempt + 1, retryInMs: delay, error });
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  /** After a check: writers waiting on it go ahead if the renewed lease is still current by our clock; otherwise it is checked again. */
  private settleWaiters(owned: OwnedSession): void {
    if (owned.waiters.length === 0) return;
    if (owned.fenced) return this.refuseWaiters(owned);
    // A renewal that waited long on the database may have set an expiry that has passed already.
    if (this.holds(owned)) for (const resolve of owned.waiters.splice(0)) resolve(true);
  }

  private refuseWaiters(owned: OwnedSession): void {
    for (const resolve of owned.waiters.splice(0)) resolve(false);
  }

  /** Runs `work` (a socket event) now if the lease is ours, after the check if it is being checked, never if fenced. */
  private gate(owned: OwnedSession, work: () => void): void {
    if (owned.fenced) return;
    if (!owned.pending.length && this.holds(owned)) return work();
    if (owned.fenced) return;
    owned.pending.push(work);
    if (owned.pending.length > MAX_PENDING_EVENTS) this.fence(owned, 'too many events waiting for a lease check');
  }

  /**
   * Renews the leases of `sessions` (one batch), fences those another runner holds now, and lets
   * the events of the ones that were being checked run in order.
   */
  private async checkLeases(sessions: OwnedSession[]): Promise<void> {
    let lost: Lease[];
    try {
      lost = await this.leases.renewAll(
        sessions.map((o) => o.lease),
        this.config.runnerId,
        this.config.leaseTtlMs,
      );
    } catch (err) {
      // The database did not answer: the next lease round checks again; events keep waiting.
      this.logger.warn({ msg: 'could not check leases', error: (err as Error).message });
      return;
    }
    const gone = new Set(lost);
    for (const owned of sessions) {
      if (gone.has(owned.lease)) {
        this.fence(owned, 'another runner holds the lease');
        continue;
      }
      if (!owned.checking) continue;
      owned.checking = false;
      for (const work of owned.pending.splice(0)) if (!owned.fenced) work();
      this.settleWaiters(owned);
    }
  }

  private fenceMarginMs(): number {
    return Math.min(2_000, Math.floor(this.config.leaseTtlMs / 10));
  }

  /**
   * Lets go of a session whose lease is (or may be) another runner's now: listeners first, so
   * that nothing the socket still delivers is written, then the socket, without a status write,
   * a logout or a lease release. Synchronous up to the close, so that no timer or reconnect of
   * the connection runs after it.
   */
  private fence(owned: OwnedSession, why: string): void {
    if (owned.fenced) return;
    owned.fenced = true;
    owned.pending.length = 0;
    this.settleWaiters(owned);
    const sessionId = owned.connection.sessionId;
    this.logger.warn({ msg: 'lost the lease of a session; closing its connection without touching the account', sessionId, epoch: owned.lease.epoch, why });
    owned.unsubscribe();
    if (this.owned.get(sessionId) === owned) {
      this.owned.delete(sessionId);
      this.messages.released(sessionId);
    }
    owned.connection.dispose().catch((err: unknown) => this.logger.warn({ msg: 'closing a fenced connection failed', sessionId, error: (err as Error).message }));
  }

  /** Renews our leases in one batch (fencing any we lost) and resumes running sessions nobody holds. */
  private async maintainLeases(): Promise<void> {
    if (this.shuttingDown) return;
    try {
      // Every session not fenced, whatever our clock says: a lease nobody took is simply renewed.
      await this.checkLeases([...this.owned.values()].filter((o) => !o.fenced));
      if (Date.now() - this.lastPrune > SEND_LOG_PRUNE_EVERY_MS) {
        this.lastPrune = Date.now();
        await this.sendLog.prune(Date.now() - SEND_LOG_RETENTION_MS);
      }
      // Only the two columns a resume needs: this runs every LEASE_TTL_MS / 3 over every session
      // of every runner, and whole rows (with their transformers) cost an idle runner CPU.
      const wanted = await this.sessions.find({ select: { sessionId: true, orgId: true }, where: { desired: 'running' } });
      for (const row of wanted) {
        if (this.shuttingDown) return;
        if (this.owned.has(row.sessionId) || this.resuming.has(row.sessionId)) continue;
        this.resume({ orgId: row.orgId, sessionId: row.sessionId });
      }
    } catch (err) {
      this.logger.error({ msg: 'lease maintenance failed', error: (err as Error).message });
    }
  }

  /**
   * Resumes one session in a bounded slot (RECONNECT_CONCURRENCY), so that a runner starting
   * with a thousand sessions, or taking over a dead runner's, opens them a few at a time with
   * jitter instead of all at once. The lease is taken only when the slot is free, which leaves
   * the rest to any other runner that is faster.
   */
  private resume(ref: SessionRef): void {
    this.resuming.add(ref.sessionId);
    const run = async (): Promise<void> => {
      try {
        const jitter = this.config.reconnect.jitterMs;
        if (jitter) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * jitter)));
        if (this.shuttingDown) return;
        const owned = await this.exclusive(ref.sessionId, async () => {
          // Read again under the session's lock: a stop may have come in since the scan.
          const row = await this.sessions.findOneBy({ sessionId: ref.sessionId });
          if (!row || row.desired !== 'running' || this.owned.has(ref.sessionId) || this.shuttingDown) return undefined;
          const taken = await this.tryOwn(ref);
          if (!taken) return undefined;
          this.logger.log({ msg: 'resuming session', sessionId: ref.sessionId, epoch: taken.lease.epoch });
          await taken.connection.start();
          return taken;
        });
        if (owned) await this.waitFor(owned.connection, SETTLED, RESUME_SETTLE_MS).catch(() => undefined);
      } catch (err) {
        this.logger.warn({ msg: 'could not resume session', sessionId: ref.sessionId, error: (err as Error).message });
      } finally {
        this.resuming.delete(ref.sessionId);
        this.resumeSlots--;
        this.resumeQueue.shift()?.();
      }
    };
    const go = (): void => {
      this.resumeSlots++;
      void run();
    };
    if (this.resumeSlots < this.config.reconnect.concurrency) go();
    else this.resumeQueue.push(go);
  }

  private subscribe(ref: SessionRef, owned: OwnedSession, connection: WaConnection): () => void {
    const { orgId, sessionId } = ref;
    const record = (work: () => Promise<void>): void => {
      const run = (): void => {
        work().catch((err: unknown) => this.logger.error({ msg: 'failed to record a session event', sessionId, error: (err as Error).message }));
      };
      // Checked again when the work starts: the runner may have paused since the event came in.
      const held = this.leaseHeld(owned);
      if (held === true) run();
      else if (held !== false) void held.then((ok) => ok && run());
    };
    /**
     * A received message and its event, in one transaction: a copy WhatsApp delivers again (its
     * receipt never left, or the runner died before it did) finds the message stored and records
     * nothing twice, and a crash between the two writes cannot keep the event from ever being made.
     */
    const received = async (m: WaIncomingMessage): Promise<void> => {
      // Every message stored before its receipt comes by again as a `message` event, and
      // WhatsApp redelivers after crashes: skip the decoding and lookups for a stored one.
      // The pair a LID-addressed message names (its sender's phone number) is recorded first, so
      // the message is stored and announced under the contact's one chat id.
      const chat = await this.messages.pairOf(sessionId, m.key.chatJid, m.chatJidAlt);
      const sender = m.key.participant ? await this.messages.pairOf(sessionId, m.key.participant, m.participantAlt) : chat;
      if (await this.messages.isStored(sessionId, m.key)) return;
      const data = {
        messageId: m.key.id,
        chat,
        sender,
        fromMe: m.key.fromMe,
        timestamp: m.timestampMs,
        ...(await receivedContent(m, sessionId)),
      };
      const recorded = await transactionInTurn(this.sessions.manager.connection, async (manager) => {
        if (!(await this.messages.saveIfNew({ sessionId, key: m.key, type: m.type, timestampMs: m.timestampMs, raw: m.raw }, manager))) return false;
        await this.events.record(orgId, sessionId, 'message.received', data, manager);
        return true;
      });
      if (recorded) this.events.wake();
    };
    /**
     * A reaction, edit, deletion or vote: the message itself stored under its type (kept out of
     * chat pages) and its event, in one transaction, once; a copy delivered again finds it stored.
     */
    const once = async <T extends EventType>(
      type: 'reaction' | 'edit' | 'revoke' | 'vote',
      about: { key: WaMessageKey; timestampMs: number; raw: Uint8Array },
      event: T,
      data: () => Promise<EventDataByType[T]>,
    ): Promise<void> => {
      if (await this.messages.isStored(sessionId, about.key)) return;
      const payload = await data();
      const recorded = await transactionInTurn(this.sessions.manager.connection, async (manager) => {
        if (!(await this.messages.saveIfNew({ sessionId, key: about.key, type, timestampMs: about.timestampMs, raw: about.raw }, manager))) return false;
        await this.events.record(orgId, sessionId, event, payload, manager);
        return true;
      });
      if (recorded) this.events.wake();
    };
    const handle = async (r: WaReceived): Promise<void> => {
      switch (r.kind) {
        case 'message':
          return received(r.message);
        case 'reaction':
          return once('reaction', r.reaction, 'message.reaction', async () => ({
            ...(await this.aboutMessage(sessionId, r.reaction.key, r.reaction.timestampMs)),
            targetMessageId: r.reaction.target.id,
            emoji: r.reaction.emoji,
          }));
        case 'edit':
          return once('edit', r.edit, 'message.edited', async () => ({
            ...(await this.aboutMessage(sessionId, r.edit.key, r.edit.timestampMs)),
            targetMessageId: r.edit.target.id,
            content: r.edit.text !== undefined ? { text: r.edit.text } : {},
          }));
        case 'revoke':
          return once('revoke', r.revoke, 'message.deleted', async () => ({
            ...(await this.aboutMessage(sessionId, r.revoke.key, r.revoke.timestampMs)),
            targetMessageId: r.revoke.target.id,
          }));
        case 'pollVote': {
          const v = r.vote;
          return once('vote', v, 'poll.vote', async () => {
            const voter = await this.messages.pairOf(sessionId, v.voterJid);
            return {
              messageId: v.key.id,
              chat: await this.messages.pairOf(sessionId, v.key.chatJid),
              sender: voter,
              fromMe: v.key.fromMe,
              timestamp: v.timestampMs,
              pollMessageId: v.poll.id,
              voter,
              selectedOptions: v.selectedOptions,
            };
          });
        }
      }
    };
    // Stored before WhatsApp gets the delivery receipt. A runner whose clock says the lease may
    // have run out waits for the check; one that lost it stores nothing and sends no receipt
    // (WhatsApp delivers it again to the next owner).
    connection.setReceiptSink((r) =>
      this.storeDelivered(owned, sessionId, 'message', async () => {
        await this.observers.beforeReceipt(ref, r);
        await handle(r);
      }),
    );
    // A receipt's statuses are stored before WhatsApp gets its ack, under the same rules. Statuses
    // only move forward, so a later attempt after a partial one changes nothing twice.
    connection.setStatusSink((updates) =>
      this.storeDelivered(owned, sessionId, 'receipt', async () => {
        for (const u of updates) await this.statuses.record(ref, u);
      }),
    );
    const offs = [
      () => connection.setReceiptSink(undefined),
      () => connection.setStatusSink(undefined),
      connection.on('status', (status: WaStatus) =>
        record(async () => {
          this.logger.log({ msg: 'session status', sessionId, ...toSessionStatus(status) });
          await this.events.record(orgId, sessionId, 'session.status', toSessionStatus(status));
          if (status.state === 'connected') await this.sessions.update({ sessionId }, { meJid: status.me.jid, meLid: status.me.lid ?? null });
          if (status.state === 'qr') await this.events.record(orgId, sessionId, 'session.qr', { qr: status.qr, expiresAt: status.expiresAt });
          // Logged out from the phone or failed for good: do not resume it after a restart.
          if (status.state === 'logged_out' || status.state === 'failed') await this.setDesired(ref, 'stopped');
        }),
      ),
      connection.on('message', (message) => record(() => handle({ kind: 'message', message }))),
      connection.on('messageStatus', (u) => record(() => this.statuses.record(ref, u))),
      connection.on('reaction', (reaction) => record(() => handle({ kind: 'reaction', reaction }))),
      connection.on('edit', (edit) => record(() => handle({ kind: 'edit', edit }))),
      connection.on('revoke', (revoke) => record(() => handle({ kind: 'revoke', revoke }))),
      connection.on('pollVote', (vote) => record(() => handle({ kind: 'pollVote', vote }))),
      connection.on('groupUpdate', (u) =>
        record(async () => {
          const author = u.author ?? u.authorPn;
          await this.events.record(orgId, sessionId, 'group.updated', {
            group: u.groupJid,
            ...(author ? { author: await this.messages.pairOf(sessionId, author, u.author ? u.authorPn : undefined) } : {}),
            ...(u.subject !== undefined ? { subject: u.subject } : {}),
            ...(u.description !== undefined ? { description: u.description } : {}),
            ...(u.announce !== undefined ? { announcement: u.announce } : {}),
            ...(u.restrict !== undefined ? { locked: u.restrict } : {}),
            ...(u.picture ? { picture: u.picture, ...(u.pictureId ? { pictureId: u.pictureId } : {}) } : {}),
            timestamp: u.timestampMs,
          });
          if (u.subject) await this.messages.saveName(sessionId, u.groupJid, u.subject);
        }),
      ),
      connection.on('groupParticipants', (u) =>
        record(async () => {
          const author = u.author ?? u.authorPn;
          await this.events.record(orgId, sessionId, 'group.participants', {
            group: u.groupJid,
            action: GROUP_ACTIONS[u.action],
            participants: await Promise.all(u.participants.map((x) => this.messages.pairOf(sessionId, x.jid, x.phoneJid))),
            ...(author ? { author: await this.messages.pairOf(sessionId, author, u.author ? u.authorPn : undefined) } : {}),
            timestamp: u.timestampMs,
          });
        }),
      ),
      connection.on('lidMapping', (m) => record(() => this.messages.saveLidMapping(sessionId, m))),
      connection.on('error', (err) => this.logger.warn({ msg: 'connection error', sessionId, error: err.message })),
      this.observers.attach(ref, connection),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The fields every message event carries, with both forms of the chat and sender JIDs where known. */
  private async aboutMessage(sessionId: string, key: WaMessageKey, timestampMs: number): Promise<MessageEventBase> {
    const chat = await this.messages.pairOf(sessionId, key.chatJid);
    return {
      messageId: key.id,
      chat,
      sender: key.participant ? await this.messages.pairOf(sessionId, key.participant) : chat,
      fromMe: key.fromMe,
      timestamp: timestampMs,
    };
  }

  private waitFor(connection: WaConnection, states: WaStatus['state'][], timeoutMs: number): Promise<void> {
    if (states.includes(connection.status.state)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new AppError('session_unavailable', 'the session did not connect in time', { status: connection.status.state }));
      }, timeoutMs);
      const off = connection.on('status', (s) => {
        if (!states.includes(s.state)) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  private exclusive<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(sessionId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(sessionId, settled);
    void settled.then(() => {
      if (this.queues.get(sessionId) === settled) this.queues.delete(sessionId);
    });
    return next;
  }
}

/**
 * The connection as listeners see it: every listener runs through `gate`, which runs it at once
 * while the lease is ours, holds it while the lease is being checked, and drops it once the
 * session is fenced, so that socket traffic buffered while this runner was paused past its lease
 * is never acted on by a runner that lost it. Everything else passes through to the connection.
 */
export function fencedView(connection: WaConnection, gate: (run: () => void) => void): WaConnection {
  return new Proxy(connection, {
    get(target, prop) {
      if (prop === 'on') {
        return (event: Parameters<WaConnection['on']>[0], listener: (...args: unknown[]) => void) =>
          target.on(event, ((...args: unknown[]) => gate(() => listener(...args))) as never);
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
