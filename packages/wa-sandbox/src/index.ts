export { WaSandbox } from './wa-sandbox.server';
export { loadBaileys } from './baileys.loader';
export { installStrictCurveVerify, verifySignatureStrict } from './strict-verify.util';
export { encryptPollVote, hashPollOption } from './message.codec';
export { silentLogger, keepConsoleTextOnly } from './silent.logger';
export {
  FAULT_KINDS,
  PHONE_CHAT_ACTIONS,
  type AppStateEntry,
  type AppStateView,
  type PhoneChatAction,
  SERVER_IDENTITIES,
  SandboxError,
  type CallInfo,
  type DeviceInfo,
  type PendingStanza,
  type FaultKind,
  type GroupInfo,
  type HandshakeRecord,
  type LoggedOutDevice,
  type OutgoingMessage,
  type OutgoingMediaMessage,
  type ReceivedMedia,
  type PhoneInfo,
  type PresenceState,
  type ProfileInfo,
  type ReceiptType,
  type ReceivedKind,
  type ReceivedMessage,
  type ReceivedPresence,
  type SandboxOptions,
  type ServerIdentity,
  type StartOptions,
} from './sandbox.types';
export { PRIVACY_VALUES, type PrivacyCategory, type PrivacySettings, type ProfileChange, type BusinessProfile } from './profile.directory';
export { encryptMedia, decryptMedia, MEDIA_KEY_INFO, MediaVerificationError, type EncryptedMedia, type MediaKind } from './media.crypto';
export { APP_STATE_COLLECTIONS, type AppStateCollection } from './app-state.store';
export { type NewsletterView } from './newsletter.registry';
