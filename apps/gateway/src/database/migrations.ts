import { ApiKeys1764000000000 } from './migrations/1764000000000-api-keys';
import { EventsWebhooks1764000100000 } from './migrations/1764000100000-events-webhooks';
import { Sessions1764000200000 } from './migrations/1764000200000-sessions';
import { Outbox1764000300000 } from './migrations/1764000300000-outbox';
import { RateLimitBuckets1764000400000 } from './migrations/1764000400000-rate-limit-buckets';
import { OutboxWaitingChat1764000500000 } from './migrations/1764000500000-outbox-waiting-chat';
import { EventsSessionPosition1764001000000 } from './migrations/1764001000000-events-session-position';
import { DeliveriesPendingQueue1764001100000 } from './migrations/1764001100000-deliveries-pending-queue';
import { DropOutboxChatIndex1764001200000 } from './migrations/1764001200000-drop-outbox-chat-index';
import { OutboxWaSort1764001300000 } from './migrations/1764001300000-outbox-wa-sort';

/** Every gateway migration, oldest first. Production never uses `synchronize`. */
export const GATEWAY_MIGRATIONS = [ApiKeys1764000000000, EventsWebhooks1764000100000, Sessions1764000200000, Outbox1764000300000, RateLimitBuckets1764000400000, OutboxWaitingChat1764000500000, EventsSessionPosition1764001000000, DeliveriesPendingQueue1764001100000, DropOutboxChatIndex1764001200000, OutboxWaSort1764001300000];
