import 'reflect-metadata';
import { ConfigError } from '@wa/domain';
import { createRunnerApp } from './app.factory';
import { withPersistentRunnerId } from './config/runner-identity';
import { loadRunnerConfig, type RunnerConfig } from './config/runner.config';

async function main(): Promise<void> {
  let config: RunnerConfig;
  try {
    config = withPersistentRunnerId(loadRunnerConfig(process.env), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`session-runner: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await createRunnerApp(config);
  await app.listen();
}

main().catch((err: unknown) => {
  process.stderr.write(`session-runner: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
