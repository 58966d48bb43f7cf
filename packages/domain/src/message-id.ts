import { sha256 } from './sha256';

import { parseJid } from './jid';
import { fillRandom } from './random-pool';

/**
 * Same layout as Baileys' `generateMessageIDV2` (`3EB0` + 18 bytes of SHA-256 over time, own
 * user and randomness), available synchronously so the outbox can mint ids at insert time
 * without loading the ESM engine.
 */
export function generateMessageId(ownJid?: string): string {
  const data = Buffer.alloc(8 + 20 + 16);
  data.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)));
  const user = ownJid ? parseJid(ownJid)?.user : undefined;
  if (user) {
    data.write(user, 8);
    data.write('@c.us', 8 + user.length);
  }
  fillRandom(data, 28, 16);
  return '3EB0' + sha256(data, 'hex').toUpperCase().substring(0, 18);
}
