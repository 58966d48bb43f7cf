import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { WaLidMapping, WaMessageKey, WaMessageLookup } from '@wa/wa-adapter';
import { Repository, type EntityManager } from 'typeorm';
import { WaLidMappingEntity } from './wa-lid-mapping.entity';
import { WaMessageEntity } from './wa-message.entity';

export interface StoredMessageInput {
  sessionId: string;
  key: WaMessageKey;
  type: string;
  timestampMs: number;
  raw: Uint8Array;
}

/**
 * The runner's message store: Baileys' `getMessage` (retries), edits, revokes and poll votes all
 * need the original message, so every message is kept with its raw proto.
 */
@Injectable()
export class MessageStore implements WaMessageLookup {
  constructor(
    @InjectRepository(WaMessageEntity) private readonly messages: Repository<WaMessageEntity>,
    @InjectRepository(WaLidMappingEntity) private readonly lids: Repository<WaLidMappingEntity>,
  ) {}

  async findRaw(sessionId: string, key: WaMessageKey): Promise<Uint8Array | undefined> {
    const row = await this.messages.findOneBy({ sessionId, chatJid: key.chatJid, messageId: key.id, fromMe: key.fromMe });
    return row ? Buffer.from(row.raw, 'base64') : undefined;
  }

  /** Saves or replaces a message; `manager` lets callers store it in the same transaction as its event. */
  async save(input: StoredMessageInput, manager?: EntityManager): Promise<void> {
    const repo = manager ? manager.getRepository(WaMessageEntity) : this.messages;
    await repo.upsert(
      {
        sessionId: input.sessionId,
        chatJid: input.key.chatJid,
        messageId: input.key.id,
        fromMe: input.key.fromMe,
        participant: input.key.participant ?? null,
        type: input.type,
        timestampMs: input.timestampMs,
        raw: Buffer.from(input.raw).toString('base64'),
      },
      ['sessionId', 'chatJid', 'messageId', 'fromMe'],
    );
  }

  async saveLidMapping(sessionId: string, mapping: WaLidMapping): Promise<void> {
    await this.lids.upsert({ sessionId, lid: mapping.lid, pn: mapping.pn }, ['sessionId', 'lid']);
  }

  /** The other form of a jid (LID for a phone-number jid and back), when known. */
  async alternateJid(sessionId: string, jid: string): Promise<string | undefined> {
    if (jid.endsWith('@lid')) return (await this.lids.findOneBy({ sessionId, lid: jid }))?.pn;
    return (await this.lids.findOneBy({ sessionId, pn: jid }))?.lid;
  }

  async forgetSession(sessionId: string): Promise<void> {
    await this.messages.delete({ sessionId });
    await this.lids.delete({ sessionId });
  }
}
