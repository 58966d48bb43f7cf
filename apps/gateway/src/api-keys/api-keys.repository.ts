import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { ApiKeyLookup, ApiKeyRecord } from '@wa/auth';
import { IsNull, Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';

/**
 * The only place that touches the api_keys table. Every method that serves an API caller takes
 * the org; `findById` is the authentication lookup, which by nature comes before any org is known.
 */
@Injectable()
export class ApiKeysRepository implements ApiKeyLookup {
  constructor(@InjectRepository(ApiKeyEntity) private readonly repo: Repository<ApiKeyEntity>) {}

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.repo.findOneBy({ id });
    if (!row) return undefined;
    return {
      id: row.id,
      orgId: row.orgId,
      capabilities: row.capabilities,
      hash: row.secretHash,
      expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt),
      revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt),
    };
  }

  /** Records use at most once a minute per key: a write per request would cost the hot path. */
  async touch(id: string, at: Date): Promise<void> {
    const now = at.getTime();
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: now })
      .where('id = :id', { id })
      .andWhere('(last_used_at IS NULL OR last_used_at < :before)', { before: now - 60_000 })
      .execute();
  }

  insert(row: ApiKeyEntity): Promise<unknown> {
    return this.repo.insert(row);
  }

  listForOrg(orgId: string, limit: number, afterId?: string): Promise<ApiKeyEntity[]> {
    const qb = this.repo.createQueryBuilder('k').where('k.org_id = :orgId', { orgId }).orderBy('k.id', 'ASC').take(limit);
    if (afterId) qb.andWhere('k.id > :afterId', { afterId });
    return qb.getMany();
  }

  findForOrg(orgId: string, id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ orgId, id });
  }

  /** Marks the key revoked once; a second revoke leaves the first timestamp in place. */
  async revoke(orgId: string, id: string, at: number): Promise<void> {
    await this.repo.update({ orgId, id, revokedAt: IsNull() }, { revokedAt: at });
  }

  async isEmpty(): Promise<boolean> {
    return (await this.repo.count({ take: 1 })) === 0;
  }
}
