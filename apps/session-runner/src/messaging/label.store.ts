import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { MessageStore } from '../messages/message-store';
import { WaLabelAssociationEntity, WaLabelEntity } from '../messages/wa-label.entity';

/** The runner's record of an account's labels and what they are on; the only writer of both tables (the chat list reads chat labels along, see `ListReads`). */
@Injectable()
export class LabelStore {
  constructor(
    @InjectRepository(WaLabelEntity) private readonly labels: Repository<WaLabelEntity>,
    @InjectRepository(WaLabelAssociationEntity) private readonly associations: Repository<WaLabelAssociationEntity>,
    private readonly store: MessageStore,
  ) {}

  async save(sessionId: string, label: { id: string; name?: string; color?: number; predefinedId?: string; deleted?: boolean }, at: number): Promise<WaLabelEntity> {
    const current = await this.labels.findOneBy({ sessionId, labelId: label.id });
    const row = Object.assign(new WaLabelEntity(), {
      sessionId,
      labelId: label.id,
      name: label.name ?? current?.name ?? '',
      color: label.color ?? current?.color ?? 0,
      predefinedId: label.predefinedId ?? current?.predefinedId ?? null,
      deleted: label.deleted ?? false,
      updatedAt: at,
    });
    // An upsert: the write here and the same change read back from WhatsApp may race.
    await this.labels.upsert(row, ['sessionId', 'labelId']);
    if (row.deleted) await this.associations.delete({ sessionId, labelId: label.id });
    return row;
  }

  async find(sessionId: string, labelId: string): Promise<WaLabelEntity | undefined> {
    return (await this.labels.findOneBy({ sessionId, labelId, deleted: false })) ?? undefined;
  }

  async list(sessionId: string): Promise<WaLabelEntity[]> {
    const rows = await this.labels.findBy({ sessionId, deleted: false });
    return rows.sort((a, b) => Number(a.labelId) - Number(b.labelId) || (a.labelId < b.labelId ? -1 : 1));
  }

  /** WhatsApp Business numbers labels from 1; a new one takes the next free number (deleted ones included). */
  async nextId(sessionId: string): Promise<string> {
    const ids = (await this.labels.findBy({ sessionId })).map((l) => Number(l.labelId)).filter(Number.isInteger);
    return String(Math.max(0, ...ids) + 1);
  }

  /** Kept under the chat's one id (a contact's LID becomes its phone number when known). */
  async associate(sessionId: string, labelId: string, given: string, messageId: string, labeled: boolean): Promise<void> {
    const chatJid = await this.store.canonicalJid(sessionId, given);
    const row = Object.assign(new WaLabelAssociationEntity(), { sessionId, labelId, chatJid, messageId });
    if (labeled) await this.associations.upsert(row, ['sessionId', 'labelId', 'chatJid', 'messageId']);
    else await this.associations.delete({ sessionId, labelId, chatJid, messageId });
  }

  /** Labels on each of the given chats (chat labels, not message labels). */
  async labelsOfChats(sessionId: string, chats: string[]): Promise<Map<string, string[]>> {
    if (!chats.length) return new Map();
    const rows = await this.associations.findBy({ sessionId, chatJid: In([...new Set(chats)]), messageId: '' });
    const result = new Map<string, string[]>();
    for (const row of rows) result.set(row.chatJid, [...(result.get(row.chatJid) ?? []), row.labelId]);
    return result;
  }

  async chatsWith(sessionId: string, labelId: string): Promise<string[]> {
    return (await this.associations.findBy({ sessionId, labelId, messageId: '' })).map((r) => r.chatJid);
  }
}
