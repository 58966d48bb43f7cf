import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * A stream or page of one session's events walks that session's rows only: `?sessionId=` had
 * read every event of the organization from the resume point and dropped the others in memory
 * (6-9 s to the first event 500k events back).
 */
export class EventsSessionPosition1764001000000 implements MigrationInterface {
  name = 'EventsSessionPosition1764001000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('events', new TableIndex({ name: 'ix_events_org_session_position', columnNames: ['org_id', 'session_id', 'position'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('events', 'ix_events_org_session_position');
  }
}
