import { ProfileDirectory } from './profile.directory';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);
const node = (attrs: Record<string, string>, content?: unknown) => ({ tag: 'iq', attrs, ...(content === undefined ? {} : { content }) }) as never;

describe(ProfileDirectory.name, () => {
  const OWNER = '491700000001';
  const FRIEND = '491700000002';
  const STRANGER = '491700000003';
  let profiles: ProfileDirectory;

  beforeEach(() => {
    profiles = new ProfileDirectory((phone, id) => `http://127.0.0.1:1/pictures/${phone}/${id}.jpg`);
    profiles.change(OWNER, { contacts: [FRIEND] });
  });

  it('shows what a setting guards to everyone, to contacts only, or to nobody, and always to the owner', () => {
    for (const [value, friend, stranger] of [['all', true, true], ['contacts', true, false], ['none', false, false]] as const) {
      profiles.change(OWNER, { privacy: { status: value } });
      expect({ value, friend: profiles.visible(OWNER, FRIEND, 'status'), stranger: profiles.visible(OWNER, STRANGER, 'status'), owner: profiles.visible(OWNER, OWNER, 'status') }).toEqual({ value, friend, stranger, owner: true });
    }
  });

  it('follows last seen for online with match_last_seen', () => {
    profiles.change(OWNER, { privacy: { last: 'contacts', online: 'match_last_seen' } });
    expect([profiles.onlineVisible(OWNER, FRIEND), profiles.onlineVisible(OWNER, STRANGER)]).toEqual([true, false]);
    profiles.change(OWNER, { privacy: { online: 'all' } });
    expect(profiles.onlineVisible(OWNER, STRANGER)).toBe(true);
  });

  it('answers a picture query with 404 when there is none, 401 when privacy hides it, else its url', () => {
    expect(profiles.pictureIq(FRIEND, node({ type: 'get' }), OWNER)).toEqual({ error: { code: 404, text: 'item-not-found' } });
    expect(profiles.pictureIq(OWNER, node({ type: 'set' }, [{ tag: 'picture', attrs: { type: 'image' }, content: JPEG }]), undefined)).toEqual({ content: [{ tag: 'picture', attrs: { id: expect.stringMatching(/^\d+$/) } }] });
    profiles.change(OWNER, { privacy: { profile: 'contacts' } });
    expect(profiles.pictureIq(STRANGER, node({ type: 'get' }), OWNER)).toEqual({ error: { code: 401, text: 'not-authorized' } });
    const answer = profiles.pictureIq(FRIEND, node({ type: 'get' }), OWNER) as unknown as { content: { attrs: { url: string } }[] };
    expect(answer.content[0]!.attrs.url).toMatch(/\/pictures\/491700000001\/\d+\.jpg$/);
  });

  it('refuses a picture that is not a JPEG and privacy values a category does not take', () => {
    expect(profiles.pictureIq(OWNER, node({ type: 'set' }, [{ tag: 'picture', attrs: {}, content: Buffer.from('PNG') }]), undefined)).toEqual({ error: { code: 406, text: 'not-acceptable' } });
    expect(profiles.privacyIq(OWNER, node({ type: 'set' }, [{ tag: 'privacy', attrs: {}, content: [{ tag: 'category', attrs: { name: 'online', value: 'none' } }] }]))).toEqual({ error: { code: 400, text: 'bad-request' } });
    expect(profiles.of(OWNER).privacy.online).toBe('all');
  });

  it('answers the usync status: the text, none, or code 401 when hidden', () => {
    expect(profiles.statusNode(OWNER, FRIEND)).toEqual({ tag: 'status', attrs: { t: '0' } });
    profiles.change(OWNER, { about: 'Busy', privacy: { status: 'contacts' } });
    expect(profiles.statusNode(OWNER, FRIEND)).toMatchObject({ content: Buffer.from('Busy') });
    expect(profiles.statusNode(OWNER, STRANGER)).toEqual({ tag: 'status', attrs: { code: '401', t: '0' } });
  });
});
