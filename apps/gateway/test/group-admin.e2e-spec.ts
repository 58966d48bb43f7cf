import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

/** A 2x2 PNG: any image the server can read becomes WhatsApp's 640x640 JPEG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEklEQVQImWM4ISd3Qk6OAUIBAB8mBBGFRCvEAAAAAElFTkSuQmCC', 'base64');

interface JidPair {
  jid: string;
  pn?: string;
  lid?: string;
}

/**
 * Group pictures and join requests end to end: an admin, a member and an outsider (three
 * sessions of one organization), the real runner and Baileys sockets, and the sandbox enforcing
 * who may do what and telling each member's (or each admin's) devices as WhatsApp does.
 */
describe('group pictures and join requests (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-group-admin';
  const ADMIN = '4917800000001';
  const MEMBER = '4917800000002';
  const OUTSIDER = '4917800000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let admin: string;
  let member: string;
  let outsider: string;
  let group: string;
  const lids: Record<string, string> = {};

  const call = (path: string, method = 'GET', body?: unknown): Promise<Envelope> => stack.call(path, method, body);
  const groupPath = (session: string, suffix: string, jid = group) => `/sessions/${session}/groups/${encodeURIComponent(jid)}${suffix}`;
  const samePerson = (pair: unknown, phone: string) => {
    const p = pair as JidPair | undefined;
    return !!p && (p.pn === pn(phone) || (p.lid !== undefined && p.lid === lids[phone]));
  };
  const refusal = (res: Envelope) => ({ status: res.status, code: res.body.error?.code, whatsapp: (res.body.error as { details?: Record<string, unknown> } | undefined)?.details?.whatsapp });

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, phones: [[ADMIN, 'Admin'], [MEMBER, 'Member'], [OUTSIDER, 'Outsider']], events: ['group.updated', 'group.participants', 'group.joined', 'group.join_request'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    Object.assign(lids, stack.lids);
    admin = (await client.linkSession(sandbox, ADMIN, 'admin')).id;
    member = (await client.linkSession(sandbox, MEMBER, 'member')).id;
    outsider = (await client.linkSession(sandbox, OUTSIDER, 'outsider')).id;
  });

  afterAll(() => stack?.close());

  it('creates a group with its picture; members see it, get group.updated, and only admins change it once the group is locked', async () => {
    const created = await call(`/sessions/${admin}/groups`, 'POST', { subject: 'Pictured', participants: [pn(MEMBER)], picture: { base64: PNG.toString('base64') } });
    expect(created.status).toBe(201);
    expect(created.body.picture).toEqual({ set: true });
    group = created.body.jid as string;
    const pictureId = sandbox.groupInfo(group).pictureId;
    expect(pictureId).toBeDefined();
    const seen = await hooks.eventFor(member, 'group.updated', (d) => d.group === group && d.picture === 'set');
    expect(seen.data.pictureId).toBe(pictureId);
    expect(samePerson(seen.data.author, ADMIN)).toBe(true);
    const read = await call(groupPath(member, '/picture'));
    expect(read.status).toBe(200);
    const download = await fetch(read.body.url as string);
    expect(Buffer.from(await download.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));

    // A member may change it while the group is open; once locked only admins may.
    expect((await call(groupPath(member, '/picture'), 'PUT', { base64: PNG.toString('base64') })).status).toBe(200);
    expect((await call(groupPath(admin, '/settings'), 'PUT', { locked: true })).status).toBe(200);
    expect(refusal(await call(groupPath(member, '/picture'), 'PUT', { base64: PNG.toString('base64') }))).toEqual({ status: 403, code: 'forbidden', whatsapp: 'not-authorized' });
    expect(refusal(await call(groupPath(member, '/picture'), 'DELETE'))).toEqual({ status: 403, code: 'forbidden', whatsapp: 'not-authorized' });

    expect((await call(groupPath(admin, '/picture'), 'DELETE')).status).toBe(204);
    const removed = await hooks.eventFor(member, 'group.updated', (d) => d.group === group && d.picture === 'removed');
    expect(samePerson(removed.data.author, ADMIN)).toBe(true);
    expect((await call(groupPath(member, '/picture'))).body).toEqual({ group, url: null });
  });

  it('reports a picture that could not be set without losing the group, and answers bad input, outsiders and unknown groups', async () => {
    const created = await call(`/sessions/${admin}/groups`, 'POST', { subject: 'Unpictured', participants: [pn(MEMBER)], picture: { base64: Buffer.from('not an image at all').toString('base64') } });
    expect(created.status).toBe(201);
    expect(created.body.picture).toMatchObject({ set: false, error: { code: 'validation_error' } });
    expect(sandbox.groupInfo(created.body.jid as string).participants).toContain(lids[MEMBER]);

    expect((await call(groupPath(admin, '/picture'), 'PUT', { base64: PNG.toString('base64'), url: 'https://example.com/a.png' })).status).toBe(400);
    expect((await call(groupPath(admin, '/picture'), 'PUT', {})).status).toBe(400);
    const unknown = '120363999999999999@g.us';
    for (const res of [await call(groupPath(admin, '/picture', unknown)), await call(groupPath(outsider, '/picture')), await call(groupPath(admin, '/requests', unknown))]) {
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    }
  });

  it('files a join request where joining needs approval; only admins list and answer it; approval adds the requester', async () => {
    expect((await call(groupPath(admin, '/policies'), 'PUT', { joinApproval: true })).status).toBe(200);
    const code = (await call(groupPath(admin, '/invite'))).body.code as string;
    const join = await call(`/sessions/${outsider}/groups/invites/${code}/join`, 'POST');
    expect(join.status).toBe(202);
    expect(join.body).toEqual({ jid: group, pending: true });
    expect(sandbox.groupInfo(group).participants).not.toContain(lids[OUTSIDER]);
    const asked = await hooks.eventFor(admin, 'group.join_request', (d) => d.group === group && d.action === 'requested');
    expect(samePerson(asked.data.requester, OUTSIDER)).toBe(true);
    expect(asked.data.method).toBe('invite_link');
    // Only admins hear of requests.
    expect(hooks.events('group.join_request', member)).toEqual([]);

    expect(refusal(await call(groupPath(member, '/requests')))).toEqual({ status: 403, code: 'forbidden', whatsapp: 'not-authorized' });
    expect(refusal(await call(groupPath(member, '/requests'), 'POST', { action: 'approve', participants: [pn(OUTSIDER)] }))).toEqual({ status: 403, code: 'forbidden', whatsapp: 'not-authorized' });
    const listed = await call(groupPath(admin, '/requests'));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ data: [expect.objectContaining({ jid: lids[OUTSIDER], pn: pn(OUTSIDER), method: 'invite_link', requestedAt: expect.any(Number) })], nextCursor: '' });

    const approved = await call(groupPath(admin, '/requests'), 'POST', { action: 'approve', participants: [pn(OUTSIDER), pn(MEMBER)] });
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ results: [{ jid: pn(OUTSIDER), status: '200' }, { jid: pn(MEMBER), status: '404' }] });
    const added = await hooks.eventFor(member, 'group.participants', (d) => d.group === group && d.action === 'added' && (d.participants as unknown[]).some((x) => samePerson(x, OUTSIDER)));
    expect(samePerson(added.data.author, ADMIN)).toBe(true);
    await hooks.eventFor(outsider, 'group.joined', (d) => d.group === group);
    expect((await call(groupPath(admin, '/requests'))).body).toEqual({ data: [], nextCursor: '' });
  });

  it('turns a request down: the admins hear who rejected it and the requester stays out', async () => {
    expect((await call(groupPath(admin, '/participants'), 'POST', { action: 'remove', participants: [pn(OUTSIDER)] })).status).toBe(200);
    const code = (await call(groupPath(admin, '/invite'))).body.code as string;
    expect((await call(`/sessions/${outsider}/groups/invites/${code}/join`, 'POST')).status).toBe(202);
    await hooks.eventFor(admin, 'group.join_request', (d) => d.group === group && d.action === 'requested' && hooks.events('group.join_request', admin).filter((e) => e.data.action === 'requested').length === 2);
    const rejected = await call(groupPath(admin, '/requests'), 'POST', { action: 'reject', participants: [pn(OUTSIDER)] });
    expect(rejected.body).toEqual({ results: [{ jid: pn(OUTSIDER), status: '200' }] });
    const told = await hooks.eventFor(admin, 'group.join_request', (d) => d.group === group && d.action === 'rejected');
    expect(samePerson(told.data.requester, OUTSIDER)).toBe(true);
    expect(samePerson(told.data.author, ADMIN)).toBe(true);
    expect(sandbox.groupInfo(group).participants).not.toContain(lids[OUTSIDER]);
  });
});
