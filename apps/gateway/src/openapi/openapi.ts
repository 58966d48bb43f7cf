import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { addAuthSecuritySchemes } from '@wa/auth';
import { BODY_ERROR_RESPONSES } from '@wa/contracts';
import { REQUEST_COMPONENTS } from '../http/request-schema';

export const API_TITLE = 'WhatsApp Gateway API';
export const API_VERSION = '1.0.0';

/**
 * Every tag the API uses, with what it groups; the document lists them in this order.
 * A tag used by a route but missing here is reported by the lint test.
 */
export const API_TAGS: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'sessions', description: 'WhatsApp sessions: create, link by QR code or pairing code, start, stop, log out, delete.' },
  { name: 'messages', description: 'Writes through a session: send, react, vote, edit, delete, read receipts and presence. Every write goes through the durable outbox.' },
  { name: 'chats', description: "What a session's runner knows: chats, stored messages, contacts and groups; group changes." },
  { name: 'profile', description: "The account's push name, about text, picture and privacy settings, and contacts' profiles as WhatsApp shows them." },
  { name: 'channels', description: 'Channels (WhatsApp newsletters): follow, read and react to them; create, edit, delete and post to our own.' },
  { name: 'contacts', description: "What WhatsApp answers about numbers and business accounts, and the account's blocklist." },
  { name: 'webhooks', description: 'Endpoints that receive the events as signed POSTs (Standard Webhooks), with their delivery logs.' },
  { name: 'events', description: 'The same events as a Server-Sent Events stream, for clients that cannot receive webhooks.' },
  { name: 'api-keys', description: 'API keys for scripts and services, with fixed capabilities.' },
  { name: 'health', description: 'Liveness and readiness probes; public.' },
];

/**
 * `<tag>_<verb>` per handler, keyed by `Controller.method`. The ids are part of the API (the
 * typed client and the fuzzer name operations by them): renaming a handler must not change one.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'SessionsController.createSession': 'sessions_create',
  'SessionsController.listSessions': 'sessions_list',
  'SessionsController.getSession': 'sessions_get',
  'SessionsController.deleteSession': 'sessions_delete',
  'SessionsController.startSession': 'sessions_start',
  'SessionsController.stopSession': 'sessions_stop',
  'SessionsController.logoutSession': 'sessions_logout',
  'SessionsController.getSessionQr': 'sessions_get_qr',
  'SessionsController.requestPairingCode': 'sessions_request_pairing_code',
  'SessionsController.getSessionMe': 'sessions_get_me',
  'MessagesController.sendMessage': 'messages_send',
  'MessagesController.reactToMessage': 'messages_react',
  'MessagesController.removeReaction': 'messages_remove_reaction',
  'MessagesController.voteOnPoll': 'messages_vote',
  'MessagesController.editMessage': 'messages_edit',
  'MessagesController.deleteMessage': 'messages_delete',
  'MessagesController.getOutboxEntry': 'messages_get_outbox_entry',
  'MessagesController.markChatRead': 'messages_mark_chat_read',
  'MessagesController.setChatPresence': 'messages_set_chat_presence',
  'MessageReadsController.listChats': 'chats_list',
  'MessageReadsController.listChatMessages': 'chats_list_messages',
  'HistoryController.fetchHistory': 'chats_fetch_history',
  'MessageReadsController.getMessage': 'chats_get_message',
  'MessageReadsController.listMessageReceipts': 'chats_list_message_receipts',
  'MessageMediaController.download': 'chats_get_message_media',
  'MessageReadsController.listContacts': 'chats_list_contacts',
  'MessageReadsController.contactExists': 'chats_check_number',
  'MessageReadsController.listGroups': 'chats_list_groups',
  'MessageReadsController.getGroup': 'chats_get_group',
  'MessageReadsController.createGroup': 'chats_create_group',
  'MessageReadsController.changeGroupParticipants': 'chats_change_group_participants',
  'MessageReadsController.updateGroup': 'chats_update_group',
  'MessageReadsController.updateGroupSettings': 'chats_update_group_settings',
  'MessageReadsController.getGroupInvite': 'chats_get_group_invite',
  'MessageReadsController.revokeGroupInvite': 'chats_revoke_group_invite',
  'MessageReadsController.leaveGroup': 'chats_leave_group',
  'MessageReadsController.getGroupInviteInfo': 'chats_get_group_invite_info',
  'MessageReadsController.joinGroupByInvite': 'chats_join_group_by_invite',
  'ProfileController.getProfile': 'profile_get',
  'ProfileController.updateProfile': 'profile_update',
  'ProfileController.setProfilePicture': 'profile_set_picture',
  'ProfileController.removeProfilePicture': 'profile_remove_picture',
  'ProfileController.getPrivacy': 'profile_get_privacy',
  'ProfileController.updatePrivacy': 'profile_update_privacy',
  'ProfileController.getContactPicture': 'profile_get_contact_picture',
  'ProfileController.getContactAbout': 'profile_get_contact_about',
  'ContactsController.checkContacts': 'contacts_check',
  'ContactsController.getBusinessProfile': 'contacts_get_business_profile',
  'ContactsController.getContactIds': 'contacts_get_ids',
  'ContactsController.listBlocked': 'contacts_list_blocked',
  'ContactsController.block': 'contacts_block',
  'ContactsController.unblock': 'contacts_unblock',
  'PresenceController.setPresence': 'contacts_set_presence',
  'PresenceController.subscribePresence': 'contacts_subscribe_presence',
  'CallsController.rejectCall': 'sessions_reject_call',
  'CallsController.getCallSettings': 'sessions_get_call_settings',
  'CallsController.updateCallSettings': 'sessions_update_call_settings',
  'ChatOrganisationController.modifyChat': 'chats_modify',
  'ChatOrganisationController.deleteChat': 'chats_delete',
  'ChatOrganisationController.clearChat': 'chats_clear',
  'ChatOrganisationController.starMessage': 'chats_star_message',
  'LabelsController.listLabels': 'chats_list_labels',
  'LabelsController.createLabel': 'chats_create_label',
  'LabelsController.updateLabel': 'chats_update_label',
  'LabelsController.deleteLabel': 'chats_delete_label',
  'LabelsController.labelChat': 'chats_label_chat',
  'LabelsController.unlabelChat': 'chats_unlabel_chat',
  'LabelsController.labelMessage': 'chats_label_message',
  'LabelsController.unlabelMessage': 'chats_unlabel_message',
  'StatusesController.postStatus': 'messages_post_status',
  'StatusesController.listStatuses': 'messages_list_statuses',
  'ChannelsController.listChannels': 'channels_list_channels',
  'ChannelsController.createChannel': 'channels_create_channel',
  'ChannelsController.getChannel': 'channels_get_channel',
  'ChannelsController.updateChannel': 'channels_update_channel',
  'ChannelsController.deleteChannel': 'channels_delete_channel',
  'ChannelsController.followChannel': 'channels_follow_channel',
  'ChannelsController.unfollowChannel': 'channels_unfollow_channel',
  'ChannelsController.muteChannel': 'channels_mute_channel',
  'ChannelsController.unmuteChannel': 'channels_unmute_channel',
  'ChannelsController.listChannelMessages': 'channels_list_channel_messages',
  'ChannelsController.reactToChannelMessage': 'channels_react_to_channel_message',
  'ChannelsController.unreactToChannelMessage': 'channels_unreact_to_channel_message',
  'GroupPoliciesController.getGroupPolicies': 'chats_get_group_policies',
  'GroupPoliciesController.updateGroupPolicies': 'chats_update_group_policies',
  'GroupAdminController.getGroupPicture': 'chats_get_group_picture',
  'GroupAdminController.setGroupPicture': 'chats_set_group_picture',
  'GroupAdminController.removeGroupPicture': 'chats_remove_group_picture',
  'GroupAdminController.listGroupJoinRequests': 'chats_list_group_join_requests',
  'GroupAdminController.updateGroupJoinRequests': 'chats_update_group_join_requests',
  'CommunitiesController.listCommunities': 'chats_list_communities',
  'CommunitiesController.createCommunity': 'chats_create_community',
  'CommunitiesController.getCommunity': 'chats_get_community',
  'CommunitiesController.linkGroup': 'chats_link_community_group',
  'CommunitiesController.unlinkGroup': 'chats_unlink_community_group',
  'WebhooksController.create': 'webhooks_create',
  'WebhooksController.list': 'webhooks_list',
  'WebhooksController.get': 'webhooks_get',
  'WebhooksController.update': 'webhooks_update',
  'WebhooksController.remove': 'webhooks_delete',
  'WebhooksController.rotateSecret': 'webhooks_rotate_secret',
  'WebhooksController.enable': 'webhooks_enable',
  'WebhooksController.test': 'webhooks_test',
  'WebhooksController.deliveries': 'webhooks_list_deliveries',
  'WebhooksController.replay': 'webhooks_replay_delivery',
  'EventsController.stream': 'events_stream',
  'ApiKeysController.createApiKey': 'api_keys_create',
  'ApiKeysController.listApiKeys': 'api_keys_list',
  'ApiKeysController.getApiKey': 'api_keys_get',
  'ApiKeysController.revokeApiKey': 'api_keys_revoke',
  'HealthController.live': 'health_live',
  'HealthController.ready': 'health_ready',
};

const snake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();

/** A handler not in the table still gets a unique `<controller>_<method>` id; the uniqueness test keeps them apart. */
export function operationId(controllerKey: string, methodKey: string): string {
  return OPERATION_IDS[`${controllerKey}.${methodKey}`] ?? `${snake(controllerKey.replace(/Controller$/, ''))}_${snake(methodKey)}`;
}

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

interface OperationLike {
  responses?: Record<string, unknown>;
  security?: unknown[];
  tags?: string[];
  'x-capability'?: string;
}

/**
 * Builds the OpenAPI document from the running app's routes, then adds what is true of whole
 * classes of operations rather than of one handler: public routes need no token, and every
 * request with a body passes the JSON edge (400/413/415) before its route runs.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle(API_TITLE)
    .setVersion(API_VERSION)
    .setDescription(
      'Link WhatsApp accounts and drive them over REST. Every call takes `Authorization: Bearer <token>`: ' +
        'a login JWT minted by your frontend (verified against its JWKS) or an API key. ' +
        'Errors always use `{"error": {"code", "message", "details"}}`; each `code` always comes with the same HTTP status.',
    )
    // Relative: the document is served by the gateway it describes, wherever that is mounted.
    .addServer('/', 'The gateway serving this document.');
  for (const tag of API_TAGS) builder.addTag(tag.name, tag.description);
  const document = SwaggerModule.createDocument(app, addAuthSecuritySchemes(builder).build(), { operationIdFactory: operationId });
  // Not published under an open-source license (package.json: UNLICENSED); DocumentBuilder would add an empty url.
  document.info.license = { name: 'Proprietary' };
  // Request schemas come from the contracts' JSON Schemas, the same objects the validators were compiled from.
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...(REQUEST_COMPONENTS as NonNullable<OpenAPIObject['components']>['schemas']) } };
  for (const item of Object.values(document.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, OperationLike>)) {
      if (op['x-capability'] === 'public') op.security = [];
      if (BODY_METHODS.has(method)) op.responses = { ...BODY_ERROR_RESPONSES, ...op.responses };
    }
  }
  const known = new Set(API_TAGS.map((t) => t.name));
  const used = Object.values(document.paths).flatMap((item) => Object.values(item as Record<string, OperationLike>).flatMap((op) => op.tags ?? []));
  document.tags = [...(document.tags ?? []), ...[...new Set(used)].filter((t) => !known.has(t)).map((name) => ({ name }))];
  return document;
}

/** JSON with object keys sorted at every level, so the committed document diffs cleanly. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
