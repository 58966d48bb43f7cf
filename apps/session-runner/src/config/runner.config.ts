import { runnerTransportFromEnv, type RunnerTransport } from '@wa/contracts';
import { envEnum, envString, parseDatabaseUrl, type DatabaseTarget, type Env } from '@wa/domain';
import { hostname } from 'node:os';
import { newId } from '@wa/domain';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The runner's environment, validated once at start. */
export class RunnerConfig {
  readonly runnerId!: string;
  readonly database!: DatabaseTarget;
  readonly transport!: RunnerTransport;
  readonly logLevel!: (typeof LOG_LEVELS)[number];

  constructor(values: RunnerConfig) {
    Object.assign(this, values);
  }
}

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  return new RunnerConfig({
    // A fresh id per process: a restarted runner must never be mistaken for its previous life
    // when leases are compared.
    runnerId: envString(env, 'RUNNER_ID', `${hostname()}-${newId()}`),
    database: parseDatabaseUrl('DATABASE_URL', envString(env, 'DATABASE_URL', 'sqlite:./data/session-runner.db')),
    transport: runnerTransportFromEnv(env),
    logLevel: envEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  });
}
