export { loadBaileys, type BaileysModule } from './baileys.loader';
export type { WaChannel, WaChannelMessage, WaChannelOps, WaChannelRole } from './wa-channels.port';
export {
  assertNoiseCertificateBinding,
  installStrictCurveVerify,
  strictCurveVerify,
  trustRootPublicKey,
  parseRootPublicKey,
} from './curve.security';
export { WaAuthCredsEntity } from './wa-auth-creds.entity';
export { WaAuthKeyEntity } from './wa-auth-key.entity';
export { WaAuthState1764000000000 } from './wa-auth-state.migration';
export { type AuthKeyRow, type AuthKeyWriter, SqlAuthStateStore, type SqlAuthState, type TransactionRunner, useSqlAuthState, isLoggedInCreds } from './sql-auth-state.store';
export {
  type PollVoteAddressing,
  type EncryptedPollVote,
  type PollUpdateInput,
  type IncomingPollVoteContext,
  type DecryptedPollVote,
  pollOptionHash,
  mapPollOptionHashes,
  encryptPollVote,
  buildPollUpdateMessage,
  decryptIncomingPollVote,
} from './poll-vote.crypto';
export type {
  WaMessageKey,
  WaMe,
  WaFailureReason,
  WaStatus,
  WaMessageType,
  WaIncomingMessage,
  WaDeliveryStatus,
  WaMessageStatusUpdate,
  WaReaction,
  WaEdit,
  WaRevoke,
  WaPollVote,
  WaReceived,
  WaStatusContent,
  WaLidMapping,
  WaHistoryBatch,
  WaUndecryptable,
  WaConnectionEvents,
  WaMedia,
  WaOutgoingContent,
  WaSendOptions,
  WaSendResult,
  WaPresence,
  WaContactCheck,
  WaGroupParticipant,
  WaGroupMetadata,
  WaGroupUpdate,
  WaGroupParticipantsUpdate,
  WaGroupParticipantsAction,
  WaParticipantResult,
  WaConnection,
  WaMessageLookup,
  WaEngine,
} from './wa-engine.port';
export { BaileysEngine, type BaileysEngineOptions, parseWaVersion } from './baileys.engine';
export { classifyDisconnect, refusedCertificateCheck, backoffDelay, type DisconnectAction, type BackoffOptions } from './disconnect.policy';
export { generateMessageId } from '@wa/domain';
export { renderQrPng } from './qr.render';
export { type WaLogger, silentLogger } from './silent.logger';
export { decodeStoredMessage, storedMessageKey, type WaStoredContent, type WaStoredPoll, type WaStoredType } from './stored-message.decoder';
export type { WaAbout, WaOwnProfile, WaPrivacyCategory, WaProfileOps } from './wa-profile.port';
export type { WaBlocklistUpdate, WaBusinessProfile, WaContactsOps, WaNumberCheck } from './wa-contacts.port';
export type { WaPresenceOps, WaPresenceUpdate } from './wa-presence.port';
export type { WaCall, WaCallOps } from './wa-calls.port';
export {
  type WaMediaKind,
  type WaMediaReference,
  WaMediaError,
  mediaReferenceOf,
  mediaReferenceOfMessage,
  mediaDownloadUrl,
  downloadMediaToFile,
} from './media-download';
export type { WaChatChange, WaChatUpdate, WaContactName, WaContactNameChange, WaLabel, WaLabelAssociation, WaLastMessage, WaStarUpdate } from './wa-chat.port';
export type { WaGroupPolicies, WaGroupPolicyOps } from './wa-group-policies.port';
export type { WaGroupAdminOps, WaInviteJoin, WaJoinRequest, WaJoinRequestUpdate } from './wa-group-admin.port';
export type { WaCommunity, WaCommunityOps, WaCommunityUpdate, WaLinkedGroup } from './wa-communities.port';
