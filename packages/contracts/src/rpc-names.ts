// Names and limits that the session runner needs without the request and response classes next to
// them (whose decorators load @nestjs/swagger): the DTO files re-export them, `./runtime` exports them.

/**
 * Older messages of a chat fetched from the account's phone (WhatsApp's on-demand history sync).
 * Wire names in RPC_HISTORY are public between gateway and runner: never rename one.
 */
export const RPC_HISTORY = {
  fetch: 'history.fetch',
} as const;

/** WhatsApp Web asks the phone for at most 50 messages at a time. */
export const HISTORY_FETCH_MAX = 50;

/**
 * Our account's profile and privacy, and a contact's profile as WhatsApp shows it to us.
 * Wire names in RPC_PROFILE are public between gateway and runner: never rename one.
 */
export const RPC_PROFILE = {
  profileGet: 'profile.get',
  profileUpdate: 'profile.update',
  profilePictureSet: 'profile.picture.set',
  profilePictureRemove: 'profile.picture.remove',
  privacyGet: 'privacy.get',
  privacyUpdate: 'privacy.update',
  contactPicture: 'contacts.picture',
  contactAbout: 'contacts.about',
} as const;

/**
 * A group's picture and the requests to join it. Wire names in RPC_GROUP_ADMIN are public
 * between gateway and runner: never rename one.
 */
export const RPC_GROUP_ADMIN = {
  pictureGet: 'groups.picture.get',
  pictureSet: 'groups.picture.set',
  pictureRemove: 'groups.picture.remove',
  joinRequests: 'groups.requests.list',
  joinRequestsUpdate: 'groups.requests.update',
} as const;

/**
 * Incoming calls: reject one, and the per-session setting to reject them all automatically.
 * Wire names in RPC_CALLS are public between gateway and runner: never rename one.
 */
export const RPC_CALLS = {
  reject: 'calls.reject',
  settingsGet: 'calls.settings.get',
  settingsSet: 'calls.settings.set',
} as const;

/**
 * Channels (WhatsApp newsletters): follow, read and react; create, edit, delete and post to our own.
 * Wire names in RPC_CHANNELS are public between gateway and runner: never rename one.
 */
export const RPC_CHANNELS = {
  list: 'channels.list',
  get: 'channels.get',
  create: 'channels.create',
  update: 'channels.update',
  delete: 'channels.delete',
  follow: 'channels.follow',
  mute: 'channels.mute',
  messages: 'channels.messages',
  react: 'channels.react',
} as const;

/**
 * Group policies beyond `announcement`/`locked`: who may add members, approval of joins by
 * link, disappearing messages. Wire names in RPC_GROUP_POLICIES are public: never rename one.
 */
export const RPC_GROUP_POLICIES = {
  get: 'groups.policies.get',
  set: 'groups.policies.set',
} as const;

/**
 * Contacts as WhatsApp answers about them (numbers, business profiles) and our blocklist.
 * Wire names in RPC_CONTACTS are public between gateway and runner: never rename one.
 */
export const RPC_CONTACTS = {
  check: 'contacts.check',
  business: 'contacts.business',
  blocklist: 'blocklist.list',
  block: 'blocklist.set',
  ids: 'contacts.ids',
} as const;

/** Longest saved name we accept (the column that keeps it). */
export const CONTACT_NAME_MAX = 256;

/**
 * Our own presence and subscriptions to contacts' presence. Wire names in RPC_PRESENCE are
 * public between gateway and runner: never rename one.
 */
export const RPC_PRESENCE = {
  set: 'presence.set',
  subscribe: 'presence.subscribe',
} as const;

/** Communities. Wire names in RPC_COMMUNITIES are public between gateway and runner: never rename one. */
export const RPC_COMMUNITIES = {
  create: 'communities.create',
  list: 'communities.list',
  get: 'communities.get',
  link: 'communities.groups.link',
  unlink: 'communities.groups.unlink',
} as const;

/** Status updates (WhatsApp's stories): sent to `status@broadcast` for a list of contacts. */
export const STATUS_JID = 'status@broadcast';

/** Our names for WhatsApp's privacy categories, with WhatsApp's own name (`xmlns=privacy`) and values. */
export const PRIVACY_SETTINGS = {
  lastSeen: { category: 'last', values: ['all', 'contacts', 'contact_blacklist', 'none'] },
  online: { category: 'online', values: ['all', 'match_last_seen'] },
  profilePicture: { category: 'profile', values: ['all', 'contacts', 'contact_blacklist', 'none'] },
  about: { category: 'status', values: ['all', 'contacts', 'contact_blacklist', 'none'] },
  groupsAdd: { category: 'groupadd', values: ['all', 'contacts', 'contact_blacklist'] },
  readReceipts: { category: 'readreceipts', values: ['all', 'none'] },
  calls: { category: 'calladd', values: ['all', 'known'] },
} as const;
export type PrivacySettingName = keyof typeof PRIVACY_SETTINGS;
export type PrivacySettings = { [K in PrivacySettingName]?: (typeof PRIVACY_SETTINGS)[K]['values'][number] };
