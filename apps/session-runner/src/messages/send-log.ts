import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import { WaSendLogEntity, type SendLogState } from './wa-send-log.entity';

/** Past this, an id cannot come back from the gateway's outbox (its entries expire long before). */
export const SEND_LOG_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * The durable half of "never send one id twice": a row is written before a message goes to the
 * socket and moved on as it leaves and is acknowledged. Each call is one statement.
 */
@Injectable()
export class SendLog {
  constructor(@InjectRepository(WaSendLogEntity) private readonly repo: Repository<WaSendLogEntity>) {}

  async state(sessionId: string, messageId: string): Promise<SendLogState | undefined> {
    return (await this.repo.findOneBy({ sessionId, messageId }))?.state;
  }

  async mark(sessionId: string, messageId: string, state: SendLogState): Promise<void> {
    await this.repo.upsert({ sessionId, messageId, state, updatedAt: Date.now() }, ['sessionId', 'messageId']);
  }

  /** WhatsApp or a recipient acknowledged the id: proof that it left, whatever this runner knew. */
  async acked(sessionId: string, messageId: string): Promise<void> {
    await this.repo.update({ sessionId, messageId, state: In(['relaying', 'relayed']) }, { state: 'acked', updatedAt: Date.now() });
  }

  async forgetSession(sessionId: string): Promise<void> {
    await this.repo.delete({ sessionId });
  }

  async prune(before: number): Promise<void> {
    await this.repo.delete({ updatedAt: LessThan(before) });
  }
}
