/**
 * Message patterns between the gateway and the session runner. They are wire names: never rename
 * one without keeping the old name answered until every deployed gateway has moved on.
 * Each pattern has its payload and result types beside it.
 */
export const RPC = {
  /** Liveness of a runner; the gateway's readiness check uses it. */
  runnerPing: 'runner.ping',
} as const;

export type RpcPattern = (typeof RPC)[keyof typeof RPC];

export type RunnerPingPayload = Record<string, never>;
export interface RunnerPingResult {
  runnerId: string;
  startedAt: number;
  transport: 'tcp' | 'nats';
}

/**
 * What a runner answers instead of a result when a call fails: the same `{code, message,
 * details}` as the public error envelope, so the gateway maps it to HTTP in one place.
 */
export interface RpcErrorPayload {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
