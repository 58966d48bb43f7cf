import { WaAuthState1764000000000 } from '@wa/wa-adapter';
import { SessionLeases1764000000000 } from './migrations/1764000000000-session-leases';
import { SessionsMessagesEvents1764000100000 } from './migrations/1764000100000-sessions-messages-events';
import { Messaging1764000300000 } from './migrations/1764000300000-messaging';
import { MessageEditsRevokes1764000400000 } from './migrations/1764000400000-message-edits-revokes';
import { SessionIdentity1764000500000 } from './migrations/1764000500000-session-identity';
import { SendLog1764000600000 } from './migrations/1764000600000-send-log';
import { ChatSummaries1764000700000 } from './migrations/1764000700000-chat-summaries';
import { MediaBlobs1764000950000 } from './migrations/1764000950000-media-blobs';
import { CallSettings1764001300000 } from './migrations/1764001300000-call-settings';
import { ChatStates1764001400000 } from './migrations/1764001400000-chat-states';
import { Labels1764001500000 } from './migrations/1764001500000-labels';
import { OneChatPerContact1764001600000 } from './migrations/1764001600000-one-chat-per-contact';
import { ContactSavedNames1764001550000 } from './migrations/1764001550000-contact-saved-names';
import { MemberReceipts1764001700000 } from './migrations/1764001700000-member-receipts';

/** Every runner migration, oldest first (the auth-state tables come with the WhatsApp adapter). */
export const RUNNER_MIGRATIONS = [
  SessionLeases1764000000000,
  WaAuthState1764000000000,
  SessionsMessagesEvents1764000100000,
  Messaging1764000300000,
  MessageEditsRevokes1764000400000,
  SessionIdentity1764000500000,
  SendLog1764000600000,
  ChatSummaries1764000700000,
  MediaBlobs1764000950000,
  CallSettings1764001300000,
  ChatStates1764001400000,
  Labels1764001500000,
  ContactSavedNames1764001550000,
  OneChatPerContact1764001600000,
  MemberReceipts1764001700000,
];
