import { AppError } from '@wa/domain';
import { BlockedContacts } from '../src/blocked-contacts';

const PEST_LID = '111111111111111@lid';
const PEST_PN = '491700000004@s.whatsapp.net';

describe(BlockedContacts.name, () => {
  it('refuses a contact on the list read at login, under either of its jids', async () => {
    const blocked = new BlockedContacts();
    let answer!: (list: string[]) => void;
    blocked.load(() => new Promise((resolve) => (answer = resolve)));
    // A send that comes while the list is being read waits for it.
    const early = blocked.refuse([PEST_PN, PEST_LID]);
    answer([PEST_LID]);
    await expect(early).rejects.toMatchObject({ code: 'forbidden', details: { reason: 'contact_blocked', chat: PEST_PN } });
    await expect(blocked.refuse(['491700000005@s.whatsapp.net'])).resolves.toBeUndefined();
  });

  it('follows blocks and unblocks, and a new login starts from the list read then', async () => {
    const blocked = new BlockedContacts();
    blocked.load(async () => []);
    await expect(blocked.refuse([PEST_PN])).resolves.toBeUndefined();
    blocked.apply([PEST_PN], true);
    await expect(blocked.refuse([PEST_PN])).rejects.toBeInstanceOf(AppError);
    blocked.apply([PEST_PN], false);
    await expect(blocked.refuse([PEST_PN])).resolves.toBeUndefined();
    blocked.apply([PEST_PN], true);
    blocked.load(async () => []);
    await expect(blocked.refuse([PEST_PN])).resolves.toBeUndefined();
  });

  it('never refuses a group, and lets sends go when the list could not be read', async () => {
    const blocked = new BlockedContacts();
    blocked.load(async () => {
      throw new Error('timed out');
    });
    blocked.apply(['120363041234567890@g.us'], true);
    await expect(blocked.refuse(['120363041234567890@g.us'])).resolves.toBeUndefined();
    await expect(blocked.refuse([PEST_PN])).resolves.toBeUndefined();
  });
});
