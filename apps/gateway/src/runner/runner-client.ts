import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { directRunnerPattern, type RpcPattern } from '@wa/contracts';
import { AppError } from '@wa/domain';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { GatewayConfig } from '../config/gateway.config';

export const RUNNER_CLIENT = Symbol('RUNNER_CLIENT');

/** `details.reason` of a 503 `session_unavailable` from a runner that took the call but did not answer in time. */
export const RUNNER_TIMEOUT_REASON = 'runner_timeout';

export const isRunnerTimeout = (err: unknown): err is AppError =>
  err instanceof AppError && err.code === 'session_unavailable' && err.details.reason === RUNNER_TIMEOUT_REASON;

/**
 * The gateway's only way to reach session runners. Runner errors arrive as `{code, message,
 * details}` and become AppErrors here; a runner that is down, unreachable or slow becomes 503
 * `session_unavailable` within the configured timeout, never a hang.
 */
@Injectable()
export class RunnerClient implements OnApplicationShutdown {
  private readonly logger = new Logger(RunnerClient.name);

  constructor(
    @Inject(RUNNER_CLIENT) private readonly client: ClientProxy,
    private readonly config: GatewayConfig,
  ) {}

  /**
   * Any runner may take a call; one that does not own the session names the owner, and the call
   * goes once more straight to it (NATS only: with TCP there is a single runner).
   */
  async call<TResult, TPayload = unknown>(pattern: RpcPattern, payload: TPayload, timeoutMs = this.config.runnerTimeoutMs): Promise<TResult> {
    try {
      return await this.send<TResult, TPayload>(pattern, payload, timeoutMs);
    } catch (err) {
      const owner = err instanceof AppError && err.code === 'session_unavailable' ? err.details.ownerRunnerId : undefined;
      if (typeof owner !== 'string' || this.config.runner.kind !== 'nats') throw err;
      return this.send<TResult, TPayload>(directRunnerPattern(owner, pattern), payload, timeoutMs);
    }
  }

  private async send<TResult, TPayload>(pattern: string, payload: TPayload, timeoutMs: number): Promise<TResult> {
    try {
      return await firstValueFrom(this.client.send<TResult, TPayload>(pattern, payload).pipe(timeout(timeoutMs)));
    } catch (err) {
      throw this.toAppError(pattern, err);
    }
  }

  private toAppError(pattern: string, err: unknown): AppError {
    if (err instanceof AppError) return err;
    if (err instanceof TimeoutError) {
      return new AppError('session_unavailable', 'the session runner did not answer in time', { pattern, reason: RUNNER_TIMEOUT_REASON });
    }
    if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
      const wire = AppError.fromWire(err);
      if (wire.code !== 'internal_error' || (err as { code: unknown }).code === 'internal_error') return wire;
    }
    // Connection refused, NATS "no responders", a closed socket: no runner could take the call.
    this.logger.warn({ msg: 'runner call failed', pattern, error: err instanceof Error ? err.message : String(err) });
    return new AppError('session_unavailable', 'no session runner is reachable', { pattern });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
