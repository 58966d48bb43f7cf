import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { SessionStatusEventData } from '@wa/contracts';
import { Repository } from 'typeorm';
import { SessionEntity } from './session.entity';

/** The only place that touches the sessions table; every lookup is scoped by org. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectRepository(SessionEntity) private readonly repo: Repository<SessionEntity>) {}

  async insert(row: SessionEntity): Promise<void> {
    await this.repo.save(this.repo.create(row));
  }

  findForOrg(orgId: string, id: string): Promise<SessionEntity | null> {
    return this.repo.findOneBy({ orgId, id });
  }

  listForOrg(orgId: string, limit: number, afterId?: string): Promise<SessionEntity[]> {
    const qb = this.repo.createQueryBuilder('s').where('s.org_id = :orgId', { orgId }).orderBy('s.id', 'ASC').take(limit);
    if (afterId) qb.andWhere('s.id > :afterId', { afterId });
    return qb.getMany();
  }

  async deleteForOrg(orgId: string, id: string): Promise<void> {
    await this.repo.delete({ orgId, id });
  }

  /**
   * Records a status the runner reported at `at`, unless a newer one is already stored: events
   * can be redelivered, and a reply to a command can race the event of the same change.
   */
  async applyStatus(orgId: string, id: string, status: SessionStatusEventData, at: number): Promise<void> {
    const me = status.me
      ? { meJid: status.me.jid, meLid: status.me.lid ?? null, mePushName: status.me.pushName ?? null }
      : {};
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ status: status.status, statusReason: status.reason ?? null, statusAt: at, updatedAt: Date.now(), ...me })
      .where('org_id = :orgId AND id = :id AND status_at <= :at', { orgId, id, at })
      .execute();
  }
}
