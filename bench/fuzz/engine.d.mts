// Types of the fuzz engine for the TypeScript callers (the gateway's e2e spec).

export interface FuzzOptions {
  seed?: string | number;
  /** Requests to send; default 10,000. */
  count?: number;
  /** embedded = SQLite + TCP; scaleout = PostgreSQL + NATS (fresh schemas, own subject prefix). */
  config?: 'embedded' | 'scaleout';
  /** Requests in flight; default 4. */
  concurrency?: number;
  /** The OpenAPI document; default apps/gateway/openapi.json. */
  document?: string;
  /** Only these operationIds. */
  operations?: string[];
  log?: (line: string) => void;
}

export interface FuzzViolation {
  operation: string;
  status: number | string;
  problem: string;
  count: number;
  seedIndex?: number;
  request?: { line: string; caller: string; changed: string; headers: string[]; body?: string };
  answer?: { status: number; ms: number; requestId?: string; body: string };
}

export interface FuzzStats {
  requests: number;
  answered: number;
  fiveXx: number;
  errorAnswers: number;
  envelopes: number;
  missingRequestId: number;
  stackTraces: number;
  slow: number;
  syncWaits: number;
  hangs: number;
  cutOff: number;
  accepted: number;
  lost: number;
  liveAtEnd: boolean;
  byStatus: Record<string, number>;
}

export interface FuzzResult {
  seed: string | number;
  count: number;
  config: 'embedded' | 'scaleout';
  concurrency: number;
  operations: number;
  seconds: number;
  stats: FuzzStats;
  violations: FuzzViolation[];
  /** No violation and every request sent. */
  ok: boolean;
}

export const DEFAULT_DOCUMENT: string;
export function runFuzz(options?: FuzzOptions): Promise<FuzzResult>;
export function formatReport(result: FuzzResult): string;
