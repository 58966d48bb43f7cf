import { SessionLeases1764000000000 } from './migrations/1764000000000-session-leases';

/** Every runner migration, oldest first. */
export const RUNNER_MIGRATIONS = [SessionLeases1764000000000];
