import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SessionLeaseEntity } from './session-lease.entity';

/** Sessions per renewal statement: far below every driver's limit on bound parameters. */
const RENEW_CHUNK = 500;

export interface Lease {
  sessionId: string;
  epoch: number;
  expiresAt: number;
}

/**
 * Exclusive ownership of a session, so that two runners never open two sockets on one account
 * (WhatsApp answers 440 and may log the account out). Every change is one conditional UPDATE or
 * an INSERT that the primary key makes exclusive, so it is atomic on SQLite and PostgreSQL alike.
 * `epoch` grows whenever the owner changes: a runner that held epoch N and sees N+1 has lost it.
 */
@Injectable()
export class SessionLeaseRepository {
  constructor(@InjectRepository(SessionLeaseEntity) private readonly repo: Repository<SessionLeaseEntity>) {}

  /** Takes a free or expired lease, or renews our own; undefined when another live owner holds it. */
  async acquire(sessionId: string, ownerId: string, ttlMs: number, now = Date.now()): Promise<Lease | undefined> {
    const expiresAt = now + ttlMs;
    const renewed = await this.repo
      .createQueryBuilder()
      .update()
      .set({ expiresAt })
      .where('session_id = :sessionId AND owner_id = :ownerId', { sessionId, ownerId })
      .execute();
    if (renewed.affected) return this.current(sessionId, ownerId);

    const taken = await this.repo
      .createQueryBuilder()
      .update()
      .set({ ownerId, expiresAt, epoch: () => 'epoch + 1' })
      .where('session_id = :sessionId AND expires_at < :now', { sessionId, now })
      .execute();
    if (taken.affected) return this.current(sessionId, ownerId);

    try {
      await this.repo.insert({ sessionId, ownerId, epoch: 1, expiresAt });
      return { sessionId, epoch: 1, expiresAt };
    } catch {
      // Someone inserted first: the primary key made that race exclusive.
      return undefined;
    }
  }

  /**
   * Extends every lease in `held` that is still ours at the epoch we hold it with, in two
   * statements per 500 sessions however many there are (one UPDATE, one read back), and answers
   * the ones that were lost. Leases are updated in place (`expiresAt`). `now` must be read before
   * the statements run, so that the expiry we believe in is never later than the stored one.
   */
  async renewAll(held: Lease[], ownerId: string, ttlMs: number, now = Date.now()): Promise<Lease[]> {
    const lost: Lease[] = [];
    const expiresAt = now + ttlMs;
    for (let i = 0; i < held.length; i += RENEW_CHUNK) {
      const chunk = held.slice(i, i + RENEW_CHUNK);
      const ids = chunk.map((l) => l.sessionId);
      await this.repo
        .createQueryBuilder()
        .update()
        .set({ expiresAt })
        .where('owner_id = :ownerId AND session_id IN (:...ids)', { ownerId, ids })
        .execute();
      const rows = await this.repo
        .createQueryBuilder('l')
        .select(['l.sessionId', 'l.epoch'])
        .where('l.owner_id = :ownerId AND l.session_id IN (:...ids)', { ownerId, ids })
        .getMany();
      const epochs = new Map(rows.map((r) => [r.sessionId, r.epoch]));
      for (const lease of chunk) {
        if (epochs.get(lease.sessionId) === lease.epoch) lease.expiresAt = expiresAt;
        else lost.push(lease);
      }
    }
    return lost;
  }

  /** The runner holding an unexpired lease on the session, if any. */
  async liveOwner(sessionId: string, now = Date.now()): Promise<string | undefined> {
    const row = await this.repo.findOneBy({ sessionId });
    return row && row.expiresAt > now ? row.ownerId : undefined;
  }

  /** Lets another runner take over at once instead of waiting for expiry. */
  async release(sessionId: string, ownerId: string): Promise<void> {
    await this.repo.createQueryBuilder().update().set({ expiresAt: 0 }).where('session_id = :sessionId AND owner_id = :ownerId', { sessionId, ownerId }).execute();
  }

  async remove(sessionId: string): Promise<void> {
    await this.repo.delete({ sessionId });
  }

  private async current(sessionId: string, ownerId: string): Promise<Lease | undefined> {
    const row = await this.repo.findOneBy({ sessionId, ownerId });
    return row ? { sessionId, epoch: row.epoch, expiresAt: row.expiresAt } : undefined;
  }
}
