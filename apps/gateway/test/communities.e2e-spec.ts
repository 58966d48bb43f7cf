import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, handedOver, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

interface JidPair {
  jid: string;
  pn?: string;
  lid?: string;
}

interface LinkedGroup {
  jid: string;
  subject: string;
  announcement: boolean;
}

/**
 * Communities end to end: an admin, a member and an outsider (three sessions of one
 * organization), the real runner and Baileys sockets, and the sandbox keeping communities as
 * WhatsApp does (the announcement group, who may link what, members joining with their group).
 */
describe('communities (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-communities';
  const ADMIN = '4917900000001';
  const MEMBER = '4917900000002';
  const OUTSIDER = '4917900000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let admin: string;
  let member: string;
  let outsider: string;
  let community: string;
  let announcements: string;
  let team: string;
  const lids: Record<string, string> = {};

  const call = (path: string, method = 'GET', body?: unknown): Promise<Envelope> => stack.call(path, method, body);
  const communityPath = (session: string, suffix = '', jid = community) => `/sessions/${session}/communities/${encodeURIComponent(jid)}${suffix}`;
  const linkPath = (session: string, group: string, jid = community) => communityPath(session, `/groups/${encodeURIComponent(group)}`, jid);
  const samePerson = (pair: unknown, phone: string) => {
    const p = pair as JidPair | undefined;
    return !!p && (p.pn === pn(phone) || (p.lid !== undefined && p.lid === lids[phone]));
  };
  const refusal = (res: Envelope) => ({ status: res.status, code: res.body.error?.code, whatsapp: (res.body.error as { details?: Record<string, unknown> } | undefined)?.details?.whatsapp });
  const linked = (body: Record<string, unknown>) => (body.linkedGroups as LinkedGroup[]).map((g) => [g.jid, g.announcement]);

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, phones: [[ADMIN, 'Admin'], [MEMBER, 'Member'], [OUTSIDER, 'Outsider']], events: ['community.updated'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    Object.assign(lids, stack.lids);
    admin = (await client.linkSession(sandbox, ADMIN, 'admin')).id;
    member = (await client.linkSession(sandbox, MEMBER, 'member')).id;
    outsider = (await client.linkSession(sandbox, OUTSIDER, 'outsider')).id;
    team = (await sandbox.createGroup(ADMIN, 'Team', [MEMBER])).jid;
  });

  afterAll(() => stack?.close());

  it('creates a community with its announcement group, links a group whose members join and hear of it, and lets only admins announce', async () => {
    const created = await call(`/sessions/${admin}/communities`, 'POST', { subject: 'Riverside', description: 'All the blocks' });
    expect(created.status).toBe(201);
    community = created.body.jid as string;
    announcements = created.body.announcementGroup as string;
    expect(created.body).toMatchObject({ subject: 'Riverside', description: 'All the blocks', linkedGroups: [{ jid: announcements, announcement: true, subject: 'Riverside' }] });
    expect(sandbox.groupInfo(community)).toMatchObject({ community: true, announcementGroup: announcements, admins: [lids[ADMIN]] });

    const link = await call(linkPath(admin, team), 'PUT');
    expect(link.status).toBe(200);
    expect(linked(link.body)).toEqual(expect.arrayContaining([[announcements, true], [team, false]]));
    const heard = await hooks.eventFor(member, 'community.updated', (d) => d.community === community && d.action === 'linked' && (d.group as JidPair).jid === team);
    expect(heard.data.group).toEqual({ jid: team, subject: 'Team' });
    expect(samePerson(heard.data.author, ADMIN)).toBe(true);

    // The member is now in the community: they read it and find it in their list.
    const read = await call(communityPath(member));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ jid: community, subject: 'Riverside', announcementGroup: announcements });
    expect(linked(read.body)).toEqual(expect.arrayContaining([[announcements, true], [team, false]]));
    expect((await call(`/sessions/${member}/communities`)).body.data).toEqual([expect.objectContaining({ jid: community, announcementGroup: announcements })]);
    expect((await call(`/sessions/${outsider}/communities`)).body).toEqual({ data: [], nextCursor: '' });

    // Announcements go through the normal send route; the member's phone gets the admin's, and the member's own is refused.
    const sent = await call(`/sessions/${admin}/messages`, 'POST', { chat: announcements, type: 'text', text: 'Water off on Friday' });
    expect(sent.status).toBe(200);
    expect(sent.body.status).toEqual(handedOver());
    expect((await sandbox.waitForReceived(MEMBER, (m) => m.id === sent.body.waMessageId, 60_000)).text).toBe('Water off on Friday');
    const refused = await call(`/sessions/${member}/messages`, 'POST', { chat: announcements, type: 'text', text: 'may I?' });
    let status = refused.body.status as string;
    for (const deadline = Date.now() + 60_000; status !== 'failed' && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      status = (await call(`/sessions/${member}/outbox/${refused.body.outboxId as string}`)).body.status as string;
    }
    expect(status).toBe('failed');
  });

  it('refuses what WhatsApp refuses: non-admins, outsiders, unknown and plain groups, a group linked elsewhere, the announcement group', async () => {
    const mine = (await sandbox.createGroup(MEMBER, 'Mine', [ADMIN])).jid;
    const notAuthorized = { status: 403, code: 'forbidden', whatsapp: 'not-authorized' };
    // The member administers the group but not the community; the admin the community but not the group.
    expect(refusal(await call(linkPath(member, mine), 'PUT'))).toEqual(notAuthorized);
    expect(refusal(await call(linkPath(admin, mine), 'PUT'))).toEqual(notAuthorized);
    expect(refusal(await call(linkPath(member, team), 'DELETE'))).toEqual(notAuthorized);

    expect((await call(communityPath(outsider))).status).toBe(404);
    expect((await call(linkPath(outsider, team), 'PUT')).status).toBe(404);
    expect((await call(linkPath(admin, '120363999999999999@g.us'), 'PUT')).status).toBe(404);
    expect((await call(communityPath(admin, '', team))).status).toBe(404);
    expect((await call(communityPath(admin, '', 'not-a-jid'))).status).toBe(400);
    expect((await call(`/sessions/${admin}/communities`, 'POST', { subject: '' })).status).toBe(400);

    const other = await call(`/sessions/${admin}/communities`, 'POST', { subject: 'Elsewhere' });
    expect(other.status).toBe(201);
    expect(refusal(await call(linkPath(admin, team, other.body.jid as string), 'PUT'))).toEqual({ status: 409, code: 'conflict', whatsapp: 'conflict' });
    expect((await call(linkPath(admin, announcements), 'DELETE')).status).toBe(400);
    expect(sandbox.groupInfo(team).linkedParent).toBe(community);
  });

  it('unlinks a group: members hear of it and, in no other linked group, leave the community', async () => {
    expect((await call(linkPath(admin, team), 'DELETE')).status).toBe(204);
    const heard = await hooks.eventFor(member, 'community.updated', (d) => d.community === community && d.action === 'unlinked' && (d.group as JidPair).jid === team);
    expect(heard.data.reason).toBe('unlink_group');
    expect(samePerson(heard.data.author, ADMIN)).toBe(true);

    expect(linked((await call(communityPath(admin))).body)).toEqual([[announcements, true]]);
    expect((await call(communityPath(member))).status).toBe(404);
    expect((await call(`/sessions/${member}/communities`)).body.data).toEqual([]);
    expect((await call(linkPath(admin, team), 'DELETE')).status).toBe(404);
    // The outsider was never in the community and heard of none of it.
    expect(hooks.events('community.updated', outsider)).toEqual([]);
  });
});
