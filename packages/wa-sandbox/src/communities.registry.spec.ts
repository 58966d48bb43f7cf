import type { BinaryNode } from './baileys.loader';
import { GroupRegistry, type GroupMember } from './groups.registry';
import { CommunityRules } from './communities.registry';

interface Account extends GroupMember {
  phone: { info: { phone: string; jid: string; lid: string; name: string } } & GroupMember['phone'];
}

const account = (n: number): Account =>
  ({ phone: { info: { phone: `49170000000${n}`, jid: `49170000000${n}@s.whatsapp.net`, lid: `10000000000000${n}@lid`, name: `P${n}` } } }) as Account;

/** The stanzas Baileys' communities socket sends (lib/Socket/communities.js). */
const iq = (to: string, type: 'get' | 'set', content: BinaryNode): BinaryNode => ({ tag: 'iq', attrs: { to, type, xmlns: 'w:g2' }, content: [content] });
const createCommunity = (subject: string): BinaryNode => ({
  tag: 'create',
  attrs: { subject },
  content: [
    { tag: 'description', attrs: { id: 'd1' }, content: [{ tag: 'body', attrs: {}, content: Buffer.from('All the teams') }] },
    { tag: 'parent', attrs: { default_membership_approval_mode: 'request_required' } },
    { tag: 'allow_non_admin_sub_group_creation', attrs: {} },
    { tag: 'create_general_chat', attrs: {} },
  ],
});
const link = (group: string): BinaryNode => ({ tag: 'links', attrs: {}, content: [{ tag: 'link', attrs: { link_type: 'sub_group' }, content: [{ tag: 'group', attrs: { jid: group } }] }] });
const unlink = (group: string): BinaryNode => ({ tag: 'unlink', attrs: { unlink_type: 'sub_group' }, content: [{ tag: 'group', attrs: { jid: group } }] });

describe(CommunityRules.name, () => {
  const admin = account(1);
  const member = account(2);
  const outsider = account(3);
  const accounts = [admin, member, outsider];
  let registry: GroupRegistry<Account>;
  let delivered: { to: Account; stanza: BinaryNode }[];

  /** Runs one iq of `me`; answers `{result}` or `{error}` as the server would send them. */
  const ask = async (me: Account, node: BinaryNode): Promise<{ result?: BinaryNode[]; error?: number }> => {
    let answer: { result?: BinaryNode[]; error?: number } = {};
    await registry.onIq(me, node, async (content) => void (answer = { result: content ?? [] }), async (code) => void (answer = { error: code }));
    return answer;
  };
  const info = (jid: string) => registry.describe(registry.get(jid)!);
  const heard = (to: Account, from: string, tag: string) => delivered.filter((d) => d.to === to && d.stanza.attrs.from === from && (d.stanza.content as BinaryNode[])[0]?.tag === tag).map((d) => (d.stanza.content as BinaryNode[])[0]!);

  beforeEach(() => {
    delivered = [];
    let id = 0;
    registry = new GroupRegistry<Account>({
      accountFor: (jid) => accounts.find((a) => a.phone.info.jid === jid || a.phone.info.lid === jid),
      toDevices: (to, stanza) => void delivered.push({ to, stanza }),
      nextId: () => String(++id),
      mayAdd: () => true,
      storePicture: () => undefined,
      pictureUrl: () => '',
    });
  });

  async function community(): Promise<{ jid: string; announcements: string }> {
    const { result } = await ask(admin, iq('@g.us', 'set', createCommunity('Neighbours')));
    const jid = `${result![0]!.attrs.id}@g.us`;
    return { jid, announcements: info(jid).announcementGroup! };
  }

  it('creates the community with its announcement group, the creator admin of both, and tells the creator\'s devices of both', async () => {
    const { jid, announcements } = await community();
    const parent = registry.get(jid)!;
    expect(parent.parent).toEqual({ approvalMode: 'request_required', nonAdminSubGroups: true });
    expect(parent.description?.body).toBe('All the teams');
    expect(info(announcements)).toMatchObject({ subject: 'Neighbours', announce: true, linkedParent: jid, defaultSubGroup: true, admins: [admin.phone.info.lid] });
    expect(delivered.filter((d) => d.to === admin).map((d) => d.stanza.attrs.from)).toEqual([jid, announcements]);
    // The metadata query shows what Baileys reads as isCommunity / linkedParent / isCommunityAnnounce.
    const parentNode = (await ask(admin, iq(jid, 'get', { tag: 'query', attrs: { request: 'interactive' } }))).result![0]!;
    expect((parentNode.content as BinaryNode[]).map((c) => c.tag)).toContain('parent');
    const announceNode = (await ask(admin, iq(announcements, 'get', { tag: 'query', attrs: { request: 'interactive' } }))).result![0]!;
    expect((announceNode.content as BinaryNode[]).filter((c) => ['linked_parent', 'default_sub_group', 'announcement'].includes(c.tag)).map((c) => [c.tag, c.attrs.jid])).toEqual([
      ['announcement', undefined],
      ['linked_parent', jid],
      ['default_sub_group', undefined],
    ]);
    // Nobody posts in the parent; only admins in the announcement group.
    expect(registry.refusesSender(parent, admin)).toBe(true);
    expect(registry.refusesSender(registry.get(announcements)!, admin)).toBe(false);
  });

  it('links only for an admin of both the community and the group; members join the community and hear of it', async () => {
    const { jid, announcements } = await community();
    const team = registry.create(member, 'Team', [admin]);
    const own = registry.create(admin, 'Own', [member]);

    expect(await ask(outsider, iq(jid, 'set', link(own.jid)))).toEqual({ error: 403 });
    expect(await ask(admin, iq(jid, 'set', link(team.jid)))).toEqual({ error: 401 });
    expect(await ask(admin, iq(jid, 'set', link('120363000000000000@g.us')))).toEqual({ error: 404 });
    expect(await ask(admin, iq(own.jid, 'set', link(team.jid)))).toEqual({ error: 400 });
    expect(await ask(admin, iq(jid, 'set', link(announcements)))).toEqual({ error: 400 });

    expect((await ask(admin, iq(jid, 'set', link(own.jid)))).result).toHaveLength(1);
    expect(info(own.jid).linkedParent).toBe(jid);
    expect(info(jid).participants).toEqual([admin.phone.info.lid, member.phone.info.lid]);
    expect(info(announcements).participants).toContain(member.phone.info.lid);
    expect(heard(member, jid, 'link').map((n) => [n.attrs.link_type, (n.content as BinaryNode[])[0]!.attrs.jid])).toEqual([['sub_group', own.jid]]);
    expect(heard(member, own.jid, 'link').map((n) => [n.attrs.link_type, (n.content as BinaryNode[])[0]!.attrs.jid])).toEqual([['parent_group', jid]]);
    expect(heard(member, announcements, 'add')[0]!.attrs.reason).toBe('linked_group_join');

    // A member lists the linked groups, the announcement group marked; a group links to one community only.
    const listed = (await ask(member, iq(jid, 'get', { tag: 'sub_groups', attrs: {} }))).result![0]!;
    expect((listed.content as BinaryNode[]).map((g) => [`${g.attrs.id}@g.us`, Array.isArray(g.content) && g.content[0]?.tag === 'default_sub_group'])).toEqual(
      expect.arrayContaining([[own.jid, false], [announcements, true]]),
    );
    const other = (await ask(admin, iq('@g.us', 'set', createCommunity('Other')))).result![0]!;
    expect(await ask(admin, iq(`${other.attrs.id}@g.us`, 'set', link(own.jid)))).toEqual({ error: 409 });
    expect(await ask(member, iq(jid, 'set', unlink(own.jid)))).toEqual({ error: 401 });

    // Whoever joins a linked group later joins the community and its announcement group with it.
    await ask(admin, iq(own.jid, 'set', { tag: 'add', attrs: {}, content: [{ tag: 'participant', attrs: { jid: outsider.phone.info.jid } }] }));
    expect(info(jid).participants).toContain(outsider.phone.info.lid);
    expect(info(announcements).participants).toContain(outsider.phone.info.lid);
  });

  it('unlinks for a community admin only; who is in no linked group leaves the community, the announcement group stays', async () => {
    const { jid, announcements } = await community();
    const own = registry.create(admin, 'Own', [member]);
    await ask(admin, iq(jid, 'set', link(own.jid)));
    delivered = [];

    expect(await ask(admin, iq(jid, 'set', unlink(announcements)))).toEqual({ error: 400 });
    expect(await ask(admin, iq(jid, 'set', unlink('120363000000000000@g.us')))).toEqual({ error: 404 });
    expect((await ask(admin, iq(jid, 'set', unlink(own.jid)))).result).toHaveLength(1);
    expect(info(own.jid).linkedParent).toBeUndefined();
    expect(heard(member, jid, 'unlink').map((n) => [n.attrs.unlink_type, n.attrs.unlink_reason])).toEqual([['sub_group', 'unlink_group']]);
    expect(heard(member, own.jid, 'unlink').map((n) => n.attrs.unlink_type)).toEqual(['parent_group']);
    expect(heard(member, announcements, 'remove')).toHaveLength(1);
    expect(info(jid).participants).toEqual([admin.phone.info.lid]);
    expect(info(announcements).participants).toEqual([admin.phone.info.lid]);
    expect(await ask(admin, iq(jid, 'set', unlink(own.jid)))).toEqual({ error: 404 });
  });
});
