import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope, handedOver } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

interface JidPair {
  jid: string;
  pn?: string;
  lid?: string;
}

interface Group {
  jid: string;
  subject: string;
  description?: string;
  announcement: boolean;
  locked: boolean;
  participants: { jid: string; pn?: string; admin?: string }[];
}

/**
 * Group administration end to end: two sessions of one organization in one group (the creator
 * and a member), a third that joins by invite link, the real runner and Baileys sockets, and the
 * sandbox enforcing what WhatsApp enforces and telling every member's devices of each change.
 */
describe('group administration (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-groups';
  const ADMIN = '4917200000001';
  const MEMBER = '4917200000002';
  const JOINER = '4917200000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let admin: string;
  let member: string;
  let joiner: string;
  let group: Group;

  const call = (path: string, method = 'GET', body?: unknown): Promise<Envelope> => stack.call(path, method, body);
  const groupPath = (session: string, suffix = '') => `/sessions/${session}/groups/${encodeURIComponent(group.jid)}${suffix}`;
  const eventFor = (session: string, type: string, pred: (data: Record<string, unknown>) => boolean) => hooks.eventFor(session, type, pred);
  const lids: Record<string, string> = {};
  /** The author and participants carry the LID WhatsApp addressed them by, and the phone number where known. */
  const samePerson = (pair: unknown, phone: string) => {
    const p = pair as JidPair | undefined;
    return !!p && (p.pn === pn(phone) || (p.lid !== undefined && p.lid === lids[phone]));
  };
  const listsPerson = (list: unknown, phone: string) => Array.isArray(list) && list.some((p) => samePerson(p, phone));

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, phones: [[ADMIN, 'Admin'], [MEMBER, 'Member'], [JOINER, 'Joiner']], events: ['group.updated', 'group.participants'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    Object.assign(lids, stack.lids);
    admin = (await client.linkSession(sandbox, ADMIN, 'admin')).id;
    member = (await client.linkSession(sandbox, MEMBER, 'member')).id;
    joiner = (await client.linkSession(sandbox, JOINER, 'joiner')).id;
    const created = await call(`/sessions/${admin}/groups`, 'POST', { subject: 'Team', participants: [pn(MEMBER)] });
    expect(created.status).toBe(201);
    group = created.body as unknown as Group;
  });

  afterAll(() => stack?.close());

  it('makes the creator the superadmin of an open group', () => {
    expect(group).toMatchObject({ subject: 'Team', announcement: false, locked: false });
    expect(group.participants).toEqual(
      expect.arrayContaining([expect.objectContaining({ pn: pn(ADMIN), admin: 'superadmin' }), expect.objectContaining({ pn: pn(MEMBER) })]),
    );
    expect(group.participants.find((p) => p.pn === pn(MEMBER))?.admin).toBeUndefined();
  });

  it("changes the subject and description; the member's session records group.updated with the author", async () => {
    const res = await call(groupPath(admin), 'PATCH', { subject: 'Team 2026', description: 'Weekly sync on Mondays' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jid: group.jid, subject: 'Team 2026', description: 'Weekly sync on Mondays' });
    const subject = await eventFor(member, 'group.updated', (d) => d.subject === 'Team 2026');
    expect(subject.data).toMatchObject({ group: group.jid });
    expect(samePerson(subject.data.author, ADMIN)).toBe(true);
    await eventFor(member, 'group.updated', (d) => d.description === 'Weekly sync on Mondays');
    // The member reads the same metadata.
    expect((await call(groupPath(member))).body).toMatchObject({ subject: 'Team 2026', description: 'Weekly sync on Mondays' });
  });

  it('lets a member change the info of an unlocked group, and not its settings', async () => {
    const renamed = await call(groupPath(member), 'PATCH', { subject: 'Team (member)' });
    expect(renamed.status).toBe(200);
    const refused = await call(groupPath(member, '/settings'), 'PUT', { locked: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('forbidden');
  });

  it('locks the group and makes it announcement-only; both sessions see the change', async () => {
    const res = await call(groupPath(admin, '/settings'), 'PUT', { announcement: true, locked: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ announcement: true, locked: true });
    for (const session of [member, admin]) {
      await eventFor(session, 'group.updated', (d) => d.announcement === true);
      await eventFor(session, 'group.updated', (d) => d.locked === true);
    }
    expect((await call(groupPath(member))).body).toMatchObject({ announcement: true, locked: true });
  });

  it('answers the non-admin 403 forbidden for every admin-only operation', async () => {
    const attempts: [string, string, unknown?][] = [
      [groupPath(member), 'PATCH', { subject: 'Hijacked' }],
      [groupPath(member), 'PATCH', { description: 'Hijacked' }],
      [groupPath(member, '/settings'), 'PUT', { announcement: false }],
      [groupPath(member, '/participants'), 'POST', { action: 'promote', participants: [pn(MEMBER)] }],
      [groupPath(member, '/participants'), 'POST', { action: 'remove', participants: [pn(ADMIN)] }],
      [groupPath(member, '/participants'), 'POST', { action: 'add', participants: [pn(JOINER)] }],
      [groupPath(member, '/invite'), 'GET'],
      [groupPath(member, '/invite/revoke'), 'POST'],
    ];
    for (const [path, method, body] of attempts) {
      const res = await call(path, method, body);
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 403, 'forbidden']);
    }
    // Nothing changed.
    expect((await call(groupPath(admin))).body).toMatchObject({ subject: 'Team (member)', description: 'Weekly sync on Mondays', announcement: true, locked: true });
  });

  it("refuses the non-admin's message in an announcement group (failed) and delivers the admin's", async () => {
    const refused = await call(`/sessions/${member}/messages`, 'POST', { chat: group.jid, type: 'text', text: 'may I?' });
    expect([200, 202]).toContain(refused.status);
    const outboxId = refused.body.outboxId as string;
    const deadline = Date.now() + 20_000;
    let status = '';
    while (Date.now() < deadline && status !== 'failed') {
      status = ((await call(`/sessions/${member}/outbox/${outboxId}`)).body.status as string) ?? '';
      if (status !== 'failed') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('failed');

    const sent = await call(`/sessions/${admin}/messages`, 'POST', { chat: group.jid, type: 'text', text: 'announcement' });
    expect(sent.status).toBe(200);
    expect(sent.body.status).toEqual(handedOver());
    await sandbox.waitForReceived(MEMBER, (m) => m.id === sent.body.waMessageId);
  });

  it('promotes the member (who may then change settings) and demotes them again, with group.participants events', async () => {
    const promoted = await call(groupPath(admin, '/participants'), 'POST', { action: 'promote', participants: [pn(MEMBER)] });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toEqual({ results: [expect.objectContaining({ status: '200' })] });
    const event = await eventFor(member, 'group.participants', (d) => d.action === 'promoted' && listsPerson(d.participants, MEMBER));
    expect(samePerson(event.data.author, ADMIN)).toBe(true);
    expect((await call(groupPath(admin))).body.participants).toEqual(expect.arrayContaining([expect.objectContaining({ pn: pn(MEMBER), admin: 'admin' })]));

    const opened = await call(groupPath(member, '/settings'), 'PUT', { announcement: false });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ announcement: false, locked: true });
    await eventFor(admin, 'group.updated', (d) => d.announcement === false && samePerson(d.author, MEMBER));

    const demoted = await call(groupPath(admin, '/participants'), 'POST', { action: 'demote', participants: [pn(MEMBER)] });
    expect(demoted.body).toEqual({ results: [expect.objectContaining({ status: '200' })] });
    await eventFor(member, 'group.participants', (d) => d.action === 'demoted' && listsPerson(d.participants, MEMBER));
    expect((await call(groupPath(member, '/settings'), 'PUT', { locked: false })).status).toBe(403);
  });

  it('shares an invite link: info by code, a third account joins, a revoked code no longer works', async () => {
    const invite = await call(groupPath(admin, '/invite'));
    expect(invite.status).toBe(200);
    const code = invite.body.code as string;
    expect(invite.body.link).toBe(`https://chat.whatsapp.com/${code}`);

    const info = await call(`/sessions/${joiner}/groups/invites/${code}`);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ jid: group.jid, subject: 'Team (member)' });
    // Looking does not join.
    expect((await call(groupPath(joiner))).status).toBe(404);

    const joined = await call(`/sessions/${joiner}/groups/invites/${code}/join`, 'POST');
    expect(joined.status).toBe(200);
    expect((joined.body as unknown as Group).participants).toEqual(expect.arrayContaining([expect.objectContaining({ pn: pn(JOINER) })]));
    await eventFor(admin, 'group.participants', (d) => d.action === 'added' && listsPerson(d.participants, JOINER));

    const revoked = await call(groupPath(admin, '/invite/revoke'), 'POST');
    expect(revoked.status).toBe(200);
    expect(revoked.body.code).not.toBe(code);
    expect(revoked.body.link).toBe(`https://chat.whatsapp.com/${String(revoked.body.code)}`);
    for (const [path, method] of [[`/sessions/${member}/groups/invites/${code}`, 'GET'], [`/sessions/${member}/groups/invites/${code}/join`, 'POST']]) {
      const res = await call(path, method);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 404, 'not_found']);
    }
    expect((await call(`/sessions/${member}/groups/invites/${String(revoked.body.code)}`)).status).toBe(200);
    expect((await call(`/sessions/${member}/groups/invites/NoSuchCode0000000000zz`)).status).toBe(404);
  });

  it('mentions every participant with mentionAll, and refuses mentionAll outside a group', async () => {
    const current = (await call(groupPath(admin))).body as unknown as Group;
    const others = current.participants.filter((p) => p.pn !== pn(ADMIN)).map((p) => p.jid);
    expect(others.length).toBe(2);
    const sent = await call(`/sessions/${admin}/messages`, 'POST', { chat: group.jid, type: 'text', text: 'all hands at noon', mentionAll: true });
    expect([sent.status, sent.body.status]).toEqual([200, handedOver()]);
    // The member's phone reads the message WhatsApp delivered: everyone but the sender mentioned.
    const seen = await sandbox.waitForReceived(MEMBER, (m) => m.id === sent.body.waMessageId);
    expect(new Set(seen.mentions)).toEqual(new Set(others));
    const refused = await call(`/sessions/${admin}/messages`, 'POST', { chat: pn(MEMBER), type: 'text', text: 'hi', mentionAll: true });
    expect([refused.status, refused.body.error?.code]).toEqual([400, 'validation_error']);
  });

  it('removes a participant and lets a member leave; the group reports removed and left, and no longer answers the leaver', async () => {
    const removed = await call(groupPath(admin, '/participants'), 'POST', { action: 'remove', participants: [pn(JOINER)] });
    expect(removed.body).toEqual({ results: [expect.objectContaining({ status: '200' })] });
    const gone = await eventFor(joiner, 'group.participants', (d) => d.action === 'removed' && listsPerson(d.participants, JOINER));
    expect(samePerson(gone.data.author, ADMIN)).toBe(true);

    const left = await call(groupPath(member, '/leave'), 'POST');
    expect(left.status).toBe(204);
    const event = await eventFor(admin, 'group.participants', (d) => d.action === 'left' && listsPerson(d.participants, MEMBER));
    expect(samePerson(event.data.author, MEMBER)).toBe(true);
    expect((await call(groupPath(member))).status).toBe(404);
    expect((await call(groupPath(admin))).body.participants).toEqual([expect.objectContaining({ pn: pn(ADMIN), admin: 'superadmin' })]);
  });

  it('answers 404 for an unknown group and numbers the group events per session without gaps', async () => {
    const unknown = `/sessions/${admin}/groups/${encodeURIComponent('120363000000000000@g.us')}`;
    expect((await call(unknown, 'PATCH', { subject: 'x' })).status).toBe(404);
    expect((await call(`${unknown}/settings`, 'PUT', { locked: true })).status).toBe(404);
    expect((await call(`${unknown}/invite`)).status).toBe(404);
    // Another organization sees none of it.
    const res = await client.call(groupPath(admin, '/invite'), { org: 'org-intruder' });
    expect(res.status).toBe(404);

    for (const session of [admin, member, joiner]) {
      const sequences = hooks.received.filter((r) => r.body.sessionId === session).map((r) => r.body.sequence);
      expect(new Set(sequences).size).toBe(sequences.length);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    }
  });
});
