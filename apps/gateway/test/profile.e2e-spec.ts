import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { ApiClient, type Envelope } from './session-fixture';
import { HANG_MS } from './deadlines';

/** A 2x2 PNG: any image the server can read becomes WhatsApp's 640x640 JPEG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEklEQVQImWM4ISd3Qk6OAUIBAB8mBBGFRCvEAAAAAElFTkSuQmCC', 'base64');
/** What the sandbox keeps for a virtual phone, as WhatsApp stores pictures: a JPEG (2x2). */
const JPEG_BASE64 =
  '/9j/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABQf/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCLALCPf//Z';
const isJpeg = (bytes: Buffer) => bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = HANG_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Our profile and privacy end to end: two sessions of one organization and a virtual contact,
 * the real runner and Baileys sockets, and the sandbox keeping each account's profile and
 * answering others' queries as its owner's privacy settings allow, as WhatsApp does.
 */
describe('profile and privacy (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-profile';
  const OWNER = '4917300000001';
  const FRIEND = '4917300000002';
  const CONTACT = '4917300000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let images: Server;
  let imageUrl: string;
  let owner: string;
  let friend: string;

  const call = (path: string, method = 'GET', body?: unknown, role?: string, org?: string): Promise<Envelope> => client.envelope(path, { method, body, role, org });
  const download = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  const contactPath = (session: string, jid: string, what: 'picture' | 'about') => `/sessions/${session}/contacts/${encodeURIComponent(jid)}/${what}`;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    images = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(PNG);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', () => resolve()));
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/logo.png`;
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox, { MEDIA_ALLOW_PRIVATE_NETWORKS: 'true' }));
    gw = await startGateway(transport, { ...idp.env, MEDIA_ALLOW_PRIVATE_NETWORKS: 'true' });
    client = new ApiClient(() => gw.url, idp, ORG);
    for (const [phone, name] of [[OWNER, 'Owner'], [FRIEND, 'Friend'], [CONTACT, 'Contact']]) await sandbox.createPhone(phone, name);
    owner = (await client.linkSession(sandbox, OWNER, 'owner')).id;
    friend = (await client.linkSession(sandbox, FRIEND, 'friend')).id;
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await new Promise<void>((resolve) => (images ? images.close(() => resolve()) : resolve()));
    await idp?.close();
    await dropTestSchemas();
  });

  it('changes the push name and about text; WhatsApp keeps both and the profile reads them back', async () => {
    const res = await call(`/sessions/${owner}/profile`, 'PATCH', { name: 'Acme Support', about: 'Available 9-17 CET' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ about: 'Available 9-17 CET' });
    await until('the server to learn the push name', () => (sandbox.profile(OWNER).name === 'Acme Support' ? true : undefined));
    expect(sandbox.profile(OWNER).about).toBe('Available 9-17 CET');
    const read = await until('the name in the profile', async () => {
      const r = await call(`/sessions/${owner}/profile`);
      return r.body.name === 'Acme Support' ? r : undefined;
    });
    expect(read.body).toMatchObject({ name: 'Acme Support', about: 'Available 9-17 CET' });
    // A contact reads the about text.
    const about = await call(contactPath(friend, pn(OWNER), 'about'));
    expect(about.status).toBe(200);
    expect(about.body).toMatchObject({ about: 'Available 9-17 CET', hidden: false });
    expect(typeof about.body.setAt).toBe('number');
  });

  it('sets the picture from base64 as a JPEG; the account and a contact get a link to it', async () => {
    const res = await call(`/sessions/${owner}/profile/picture`, 'PUT', { base64: PNG.toString('base64') });
    expect(res.status).toBe(200);
    const pictureUrl = res.body.pictureUrl as string;
    expect(pictureUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pictures\//);
    expect(sandbox.profile(OWNER).pictureId).toBeDefined();
    const picture = await download(pictureUrl);
    expect(picture.status).toBe(200);
    expect(isJpeg(picture.bytes)).toBe(true);
    const seen = await call(contactPath(friend, pn(OWNER), 'picture'));
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual({ jid: pn(OWNER), url: pictureUrl });
  });

  it('sets the picture from a url; the old picture stops being served', async () => {
    const before = sandbox.profile(OWNER).pictureId!;
    const res = await call(`/sessions/${owner}/profile/picture`, 'PUT', { url: imageUrl });
    expect(res.status).toBe(200);
    expect(sandbox.profile(OWNER).pictureId).not.toBe(before);
    expect((await download(res.body.pictureUrl as string)).status).toBe(200);
    expect((await download((res.body.pictureUrl as string).replace(/\/\d+\.jpg$/, `/${before}.jpg`))).status).toBe(404);
  });

  it('refuses pictures that are not images, or given twice or not at all, with 400', async () => {
    for (const body of [{ base64: Buffer.from('not an image at all').toString('base64') }, { base64: PNG.toString('base64'), url: imageUrl }, {}, { base64: '!!!' }]) {
      const res = await call(`/sessions/${owner}/profile/picture`, 'PUT', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'validation_error' });
    }
  });

  it('reads the default privacy settings and changes some; WhatsApp keeps them', async () => {
    const before = await call(`/sessions/${owner}/privacy`);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ lastSeen: 'all', online: 'all', profilePicture: 'all', about: 'all', groupsAdd: 'all', readReceipts: 'all', calls: 'all' });
    const res = await call(`/sessions/${owner}/privacy`, 'PATCH', { profilePicture: 'contacts', about: 'contacts', lastSeen: 'none', calls: 'known' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ profilePicture: 'contacts', about: 'contacts', lastSeen: 'none', calls: 'known', readReceipts: 'all' });
    expect(sandbox.profile(OWNER).privacy).toMatchObject({ profile: 'contacts', status: 'contacts', last: 'none', calladd: 'known' });
    expect((await call(`/sessions/${owner}/privacy`)).body).toMatchObject({ profilePicture: 'contacts', about: 'contacts' });
  });

  it('hides the picture and about from a non-contact, and shows them once the owner has the contact in the address book', async () => {
    const picture = await call(contactPath(friend, pn(OWNER), 'picture'));
    expect(picture.body).toEqual({ jid: pn(OWNER), url: null });
    const about = await call(contactPath(friend, pn(OWNER), 'about'));
    expect(about.body).toMatchObject({ about: null, hidden: true });
    // The owner still sees their own.
    expect((await call(`/sessions/${owner}/profile`)).body).toMatchObject({ about: 'Available 9-17 CET', pictureUrl: expect.any(String) });

    sandbox.setProfile(OWNER, { contacts: [FRIEND] });
    expect((await call(contactPath(friend, pn(OWNER), 'picture'))).body.url).toEqual(expect.any(String));
    expect((await call(contactPath(friend, pn(OWNER), 'about'))).body).toMatchObject({ about: 'Available 9-17 CET', hidden: false });
  });

  it("reads a virtual contact's profile as its privacy allows", async () => {
    sandbox.setProfile(CONTACT, { about: 'At the gym', picture: JPEG_BASE64, privacy: { profile: 'none' } });
    expect((await call(contactPath(owner, pn(CONTACT), 'about'))).body).toMatchObject({ jid: pn(CONTACT), about: 'At the gym', hidden: false });
    expect((await call(contactPath(owner, pn(CONTACT), 'picture'))).body).toEqual({ jid: pn(CONTACT), url: null });
    sandbox.setProfile(CONTACT, { privacy: { profile: 'all' } });
    const url = (await call(contactPath(owner, pn(CONTACT), 'picture'))).body.url as string;
    expect(isJpeg((await download(url)).bytes)).toBe(true);
    // A number with no about at all.
    await sandbox.createPhone('4917300000009', 'Quiet');
    expect((await call(contactPath(owner, pn('4917300000009'), 'about'))).body).toMatchObject({ about: null, hidden: false });
  });

  it('removes the picture; contacts then get none and the link stops working', async () => {
    const url = (await call(`/sessions/${owner}/profile`)).body.pictureUrl as string;
    const res = await call(`/sessions/${owner}/profile/picture`, 'DELETE');
    expect(res.status).toBe(204);
    expect(sandbox.profile(OWNER).pictureId).toBeUndefined();
    expect((await call(`/sessions/${owner}/profile`)).body.pictureUrl).toBeUndefined();
    expect((await call(contactPath(friend, pn(OWNER), 'picture'))).body.url).toBeNull();
    expect((await download(url)).status).toBe(404);
  });

  it('answers bad input with 400 validation_error', async () => {
    const attempts: [string, string, unknown?][] = [
      [`/sessions/${owner}/profile`, 'PATCH', {}],
      [`/sessions/${owner}/profile`, 'PATCH', { name: '' }],
      [`/sessions/${owner}/profile`, 'PATCH', { about: 'x'.repeat(140) }],
      [`/sessions/${owner}/profile`, 'PATCH', { nickname: 'x' }],
      [`/sessions/${owner}/privacy`, 'PATCH', {}],
      [`/sessions/${owner}/privacy`, 'PATCH', { lastSeen: 'friends' }],
      [`/sessions/${owner}/privacy`, 'PATCH', { online: 'none' }],
      [contactPath(owner, 'not-a-jid', 'picture'), 'GET'],
      [contactPath(owner, '120363041234567890@g.us', 'about'), 'GET'],
    ];
    for (const [path, method, body] of attempts) {
      const res = await call(path, method, body);
      expect({ path, body, status: res.status, code: res.body.error?.code }).toEqual({ path, body, status: 400, code: 'validation_error' });
    }
  });

  it('needs the send capability to change, any member to read; another org sees no session', async () => {
    const refused = await call(`/sessions/${owner}/profile`, 'PATCH', { about: 'Hijacked' }, 'viewer');
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('forbidden');
    expect((await call(`/sessions/${owner}/privacy`, 'PATCH', { about: 'none' }, 'viewer')).status).toBe(403);
    expect((await call(`/sessions/${owner}/profile/picture`, 'DELETE', undefined, 'viewer')).status).toBe(403);
    expect((await call(`/sessions/${owner}/privacy`, 'GET', undefined, 'viewer')).status).toBe(200);
    for (const [path, method, body] of [
      [`/sessions/${owner}/profile`, 'GET'],
      [`/sessions/${owner}/profile`, 'PATCH', { about: 'Hijacked' }],
      [`/sessions/${owner}/privacy`, 'GET'],
      [contactPath(owner, pn(FRIEND), 'about'), 'GET'],
    ] as [string, string, unknown?][]) {
      const res = await call(path, method, body, undefined, 'org-other');
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 404, code: 'not_found' });
    }
    expect(sandbox.profile(OWNER).about).toBe('Available 9-17 CET');
  });

  it('answers 409 session_not_connected for a session that is not connected', async () => {
    const created = await client.json<{ id: string }>('/sessions', { method: 'POST', body: { name: 'unlinked' } });
    for (const [path, method, body] of [
      [`/sessions/${created.id}/profile`, 'GET'],
      [`/sessions/${created.id}/privacy`, 'PATCH', { about: 'none' }],
      [contactPath(created.id, pn(FRIEND), 'picture'), 'GET'],
    ] as [string, string, unknown?][]) {
      const res = await call(path, method, body);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 409, code: 'session_not_connected' });
    }
  });
});

