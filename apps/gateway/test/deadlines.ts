/**
 * How long a test waits for a condition before it calls it a hang. Not a measure of speed: a
 * loaded 2-core CI run (several lanes at once, load average above 10) has taken 15-20 s for
 * things a quiet machine does in one, and missed deadlines of that size. Claims about time (a
 * takeover within 20 s, a revocation within 1 s) are measured against their own bounds instead.
 */
export const HANG_MS = 120_000;
