import type { MigrationInterface, QueryRunner } from 'typeorm';
import { mergeLidRows, pairsToMerge } from '../../messages/lid-merge';

/**
 * One chat per contact: rows stored before it under a contact's LID while its phone number was
 * known move to the phone-number jid, the chat id the store keeps from now on (see `mergeLidRows`,
 * which the runner also runs whenever it learns a pair). Only pairs whose LID still names rows
 * are merged, so a database without such rows is left as it was; running it twice changes
 * nothing. Not undone: which rows came from which form is not kept.
 */
export class OneChatPerContact1764001600000 implements MigrationInterface {
  name = 'OneChatPerContact1764001600000';

  async up(q: QueryRunner): Promise<void> {
    const postgres = q.connection.options.type === 'postgres';
    for (const pair of await pairsToMerge(q)) await mergeLidRows(q, postgres, pair.sessionId, pair.lid, pair.pn);
  }

  async down(): Promise<void> {
    // The merged rows stay merged: the LID form of each is still known from wa_lid_mappings.
  }
}
