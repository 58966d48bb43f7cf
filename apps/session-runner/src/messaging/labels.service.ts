import { Injectable } from '@nestjs/common';
import type { Label, LabelAssignPayload, LabelAssignResult, LabelCreatePayload, LabelRefPayload, LabelUpdatePayload, SessionRef } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import type { WaConnection } from '@wa/wa-adapter';
import type { WaLabelEntity } from '../messages/wa-label.entity';
import { MessageStore } from '../messages/message-store';
import { SessionManager } from '../sessions/session-manager';
import { toJid } from './jid.resolve';
import { LabelStore } from './label.store';
import { MessageReader } from './message-reader.service';

const LABEL_ID = /^[0-9A-Za-z_-]{1,64}$/;

/**
 * WhatsApp Business labels through the account's app state. Labels exist on business accounts
 * only (WhatsApp shows them nowhere else): writes on another account are refused with 403. The
 * runner records what it writes at once; what other devices write comes in through
 * `ChatOrganisationObserver`.
 */
@Injectable()
export class LabelsService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly reader: MessageReader,
    private readonly labels: LabelStore,
  ) {}

  async list(p: SessionRef): Promise<{ data: Label[] }> {
    await this.sessions.requireSession(p);
    return { data: (await this.labels.list(p.sessionId)).map(toLabel) };
  }

  async create(p: LabelCreatePayload): Promise<Label> {
    await this.sessions.requireSession(p);
    const connection = this.business(p);
    const name = labelName(p.name);
    const color = labelColor(p.color ?? 0);
    const id = await this.labels.nextId(p.sessionId);
    await connection.editLabel({ id, name, color });
    return toLabel(await this.labels.save(p.sessionId, { id, name, color }, Date.now()));
  }

  async update(p: LabelUpdatePayload): Promise<Label> {
    await this.sessions.requireSession(p);
    const connection = this.business(p);
    const current = await this.existing(p.sessionId, p.labelId);
    if (p.name === undefined && p.color === undefined) throw new AppError('validation_error', 'give a name, a color, or both');
    const next = { id: current.labelId, name: p.name === undefined ? current.name : labelName(p.name), color: p.color === undefined ? current.color : labelColor(p.color) };
    await connection.editLabel({ ...next, ...(current.predefinedId ? { predefinedId: current.predefinedId } : {}) });
    return toLabel(await this.labels.save(p.sessionId, next, Date.now()));
  }

  async delete(p: LabelRefPayload): Promise<Record<string, never>> {
    await this.sessions.requireSession(p);
    const connection = this.business(p);
    const current = await this.existing(p.sessionId, p.labelId);
    await connection.editLabel({ id: current.labelId, name: current.name, color: current.color, deleted: true });
    await this.labels.save(p.sessionId, { id: current.labelId, deleted: true }, Date.now());
    return {};
  }

  async assign(p: LabelAssignPayload): Promise<LabelAssignResult> {
    await this.sessions.requireSession(p);
    const connection = this.business(p);
    const label = await this.existing(p.sessionId, p.labelId);
    if (typeof p.labeled !== 'boolean') throw new AppError('validation_error', 'labeled must be a boolean');
    if (p.messageId !== undefined) {
      const chats = p.chat ? await this.reader.formsOf(p.sessionId, toJid(p.chat, 'chat')) : undefined;
      const row = await this.store.find(p.sessionId, String(p.messageId), chats ? { chats } : {});
      if (!row) throw new AppError('not_found', 'no such message in this session', { messageId: p.messageId });
      await connection.labelMessage(row.chatJid, row.messageId, label.labelId, p.labeled);
      await this.labels.associate(p.sessionId, label.labelId, row.chatJid, row.messageId, p.labeled);
      return { labelId: label.labelId, chat: row.chatJid, messageId: row.messageId, labeled: p.labeled };
    }
    const chat = toJid(p.chat, 'chat');
    await connection.labelChat(chat, label.labelId, p.labeled);
    await this.labels.associate(p.sessionId, label.labelId, chat, '', p.labeled);
    return { labelId: label.labelId, chat, labeled: p.labeled };
  }

  private business(ref: SessionRef): WaConnection {
    const connection = this.sessions.connected(ref);
    if (!connection.isBusiness()) throw new AppError('forbidden', 'labels exist on WhatsApp Business accounts only', { whatsapp: 'not_business' });
    return connection;
  }

  private async existing(sessionId: string, labelId: unknown): Promise<WaLabelEntity> {
    if (typeof labelId !== 'string' || !LABEL_ID.test(labelId)) throw new AppError('validation_error', 'labelId is not a label id', { labelId });
    const label = await this.labels.find(sessionId, labelId);
    if (!label) throw new AppError('not_found', 'no such label', { labelId });
    return label;
  }
}

function labelName(value: unknown): string {
  if (typeof value !== 'string' || !value.trim() || value.length > 100) throw new AppError('validation_error', 'name must be 1 to 100 characters');
  return value;
}

function labelColor(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 19) throw new AppError('validation_error', 'color must be 0 to 19');
  return value;
}

function toLabel(row: WaLabelEntity): Label {
  return { id: row.labelId, name: row.name, color: row.color, ...(row.predefinedId ? { predefinedId: row.predefinedId } : {}) };
}
