import { normalizeJid, isLidJid, isPhoneJid } from '@wa/domain';
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Message types that change another message instead of showing in a chat (as `NON_CHAT_TYPES` when this was written). */
const NON_CHAT_TYPES = ['reaction', 'vote', 'edit', 'revoke'];

/**
 * What chat and contact lists read, kept on write instead of grouped out of every stored message
 * on each read: the newest message of each chat (`wa_chats`, paged by time) and everyone we
 * exchanged messages with (`wa_correspondents`, paged by jid). Both are filled from the messages
 * already stored, so existing installs keep their lists.
 */
export class ChatSummaries1764000700000 implements MigrationInterface {
  name = 'ChatSummaries1764000700000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'wa_chats',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'chat_jid', type: 'varchar', length: '128', isPrimary: true },
          { name: 'last_message_at', type: 'bigint' },
          { name: 'last_message_id', type: 'varchar', length: '128' },
        ],
      }),
    );
    // Read backwards (newest first); both databases scan a B-tree index in either direction.
    await q.createIndex('wa_chats', new TableIndex({ name: 'ix_wa_chats_recent', columnNames: ['session_id', 'last_message_at', 'chat_jid'] }));
    await q.createTable(
      new Table({
        name: 'wa_correspondents',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'jid', type: 'varchar', length: '128', isPrimary: true },
        ],
      }),
    );

    // The newest message of each chat; of several at the same millisecond the greatest id, as the
    // chat's message page orders them.
    const skip = NON_CHAT_TYPES.map((t) => `'${t}'`).join(', ');
    await q.query(
      `INSERT INTO wa_chats (session_id, chat_jid, last_message_at, last_message_id)
       SELECT m.session_id, m.chat_jid, m.timestamp_ms, MAX(m.message_id)
       FROM wa_messages m
       JOIN (SELECT session_id, chat_jid, MAX(timestamp_ms) AS ts FROM wa_messages WHERE type NOT IN (${skip}) GROUP BY session_id, chat_jid) h
         ON h.session_id = m.session_id AND h.chat_jid = m.chat_jid AND h.ts = m.timestamp_ms
       WHERE m.type NOT IN (${skip})
       GROUP BY m.session_id, m.chat_jid, m.timestamp_ms`,
    );

    // Jids are stored without their device part and only for people (phone numbers and LIDs),
    // which SQL cannot tell portably: the distinct values are few, normalized here.
    const postgres = q.connection.options.type === 'postgres';
    const found: { session_id: string; jid: string }[] = await q.query(
      `SELECT DISTINCT session_id, chat_jid AS jid FROM wa_messages
       UNION SELECT DISTINCT session_id, participant AS jid FROM wa_messages WHERE participant IS NOT NULL AND from_me = ${postgres ? 'false' : '0'}`,
    );
    const people = new Map<string, [string, string]>();
    for (const row of found) {
      const jid = normalizeJid(row.jid);
      if (isPhoneJid(jid) || isLidJid(jid)) people.set(`${row.session_id}|${jid}`, [row.session_id, jid]);
    }
    const rows = [...people.values()];
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      const values = chunk.map((_, k) => (postgres ? `($${2 * k + 1}, $${2 * k + 2})` : '(?, ?)')).join(', ');
      await q.query(`INSERT INTO wa_correspondents (session_id, jid) VALUES ${values} ON CONFLICT DO NOTHING`, chunk.flat());
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('wa_correspondents');
    await q.dropIndex('wa_chats', 'ix_wa_chats_recent');
    await q.dropTable('wa_chats');
  }
}
