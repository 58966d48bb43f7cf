import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver, type Received } from './webhook-receiver';

/**
 * Group policies and joining end to end: `group.joined` when the account is added, member-add
 * mode, join approval and disappearing messages enforced by the sandbox as WhatsApp does, and
 * additions refused by the added person's "who can add me" privacy setting.
 */
describe('group policies (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-group-policies';
  const ADMIN = '4917700000001';
  const MEMBER = '4917700000002';
  const SHY = '4917700000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let admin: string;
  let member: string;
  let group: string;
  const lids: Record<string, string> = {};

  const call = (path: string, method = 'GET', body?: unknown, role?: string, org?: string): Promise<Envelope> => client.envelope(path, { method, body, role, org });
  const policies = (session: string) => `/sessions/${session}/groups/${encodeURIComponent(group)}/policies`;

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, phones: [[ADMIN, 'Admin'], [MEMBER, 'Member'], [SHY, 'Shy']], events: ['group.joined'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    Object.assign(lids, stack.lids);
    admin = (await client.linkSession(sandbox, ADMIN, 'admin')).id;
    member = (await client.linkSession(sandbox, MEMBER, 'member')).id;
  });

  afterAll(() => stack?.close());

  it('tells the added account group.joined, naming who added it', async () => {
    const created = await call(`/sessions/${admin}/groups`, 'POST', { subject: 'Policies', participants: [pn(MEMBER)] });
    expect(created.status).toBe(201);
    group = created.body.jid as string;
    let hit: Received['body'] | undefined;
    await hooks.waitFor(() => !!(hit = hooks.received.map((r) => r.body).find((b) => b.sessionId === member && b.type === 'group.joined' && b.data.group === group)), 20_000);
    const author = hit!.data.author as { pn?: string; lid?: string };
    expect(author.pn === pn(ADMIN) || author.lid === lids[ADMIN]).toBe(true);
    // The creator was not "added": no group.joined for it.
    expect(hooks.received.some((r) => r.body.sessionId === admin && r.body.type === 'group.joined')).toBe(false);
  });

  it('reads the defaults and changes every policy as an admin; the member reads the same', async () => {
    expect((await call(policies(admin))).body).toEqual({ memberAddMode: 'admins', joinApproval: false, disappearingSeconds: 0 });
    const res = await call(policies(admin), 'PUT', { memberAddMode: 'all_members', joinApproval: true, disappearingSeconds: 604800 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ memberAddMode: 'all_members', joinApproval: true, disappearingSeconds: 604800 });
    expect((await call(policies(member))).body).toEqual({ memberAddMode: 'all_members', joinApproval: true, disappearingSeconds: 604800 });
  });

  it('lets a member change the timer of an unlocked group, but not the admin-only policies', async () => {
    expect((await call(policies(member), 'PUT', { disappearingSeconds: 86400 })).body).toMatchObject({ disappearingSeconds: 86400 });
    for (const body of [{ joinApproval: false }, { memberAddMode: 'admins' }]) {
      const res = await call(policies(member), 'PUT', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 403, code: 'forbidden' });
    }
    expect((await call(policies(admin))).body).toEqual({ memberAddMode: 'all_members', joinApproval: true, disappearingSeconds: 86400 });
  });

  it("refuses to add someone whose privacy does not allow it (403), until they have the adder as a contact", async () => {
    sandbox.setProfile(SHY, { privacy: { groupadd: 'contacts' } });
    const path = `/sessions/${admin}/groups/${encodeURIComponent(group)}/participants`;
    const refused = await call(path, 'POST', { action: 'add', participants: [pn(SHY)] });
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ results: [expect.objectContaining({ status: '403' })] });
    expect(sandbox.groupInfo(group).participants).not.toContain(lids[SHY]);
    sandbox.setProfile(SHY, { contacts: [ADMIN] });
    const added = await call(path, 'POST', { action: 'add', participants: [pn(SHY)] });
    expect(added.body).toEqual({ results: [expect.objectContaining({ status: '200' })] });
  });

  it('answers bad input, other orgs and strangers with the envelope', async () => {
    for (const body of [{}, { disappearingSeconds: 3600 }, { memberAddMode: 'everyone' }, { joinApproval: 'yes' }, { other: 1 }]) {
      const res = await call(policies(admin), 'PUT', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'validation_error' });
    }
    expect((await call(`/sessions/${admin}/groups/not-a-group/policies`)).status).toBe(400);
    expect((await call(policies(admin), 'PUT', { joinApproval: false }, 'viewer')).status).toBe(403);
    const elsewhere = await call(policies(admin), 'GET', undefined, undefined, 'org-elsewhere');
    expect({ status: elsewhere.status, code: elsewhere.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    const unknown = await call(`/sessions/${admin}/groups/${encodeURIComponent('120363999999999999@g.us')}/policies`);
    expect({ status: unknown.status, code: unknown.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
  });
});
