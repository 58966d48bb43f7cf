import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PageQueryDto } from '@wa/contracts';
import { AppError, ConfigError } from '@wa/domain';
import { ApiKeysPersistenceModule } from './api-keys/api-keys-persistence.module';
import { ApiKeysService } from './api-keys/api-keys.service';
import { USAGE, type Command } from './cli-args';
import { ConfigModule } from './config/config.module';
import { loadGatewayConfig, type GatewayConfig } from './config/gateway.config';
import { DatabaseModule } from './database/database.module';

/** `pnpm gateway ...` runs in apps/gateway; relative SQLite paths mean what they mean where the user typed it. */
function cliConfig(): GatewayConfig {
  if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  const env = { ...process.env };
  if (env.GATEWAY_DATABASE_URL) env.DATABASE_URL = env.GATEWAY_DATABASE_URL;
  return loadGatewayConfig(env);
}

async function run(app: INestApplicationContext, command: Command): Promise<void> {
  const keys = app.get(ApiKeysService);
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  switch (command.action) {
    case 'create': {
      const created = await keys.issue(command.org, {
        name: command.name,
        capabilities: command.capabilities,
        expiresAt: command.expiresInDays === null ? null : Date.now() + command.expiresInDays * 86_400_000,
        createdBy: 'cli',
      });
      out(`API key ${created.id} for org "${command.org}" (${created.capabilities.join(',')}, expires ${created.expiresAt ?? 'never'}).`);
      out('Store it now: it is shown this once and cannot be read again.');
      out();
      out(created.token);
      return;
    }
    case 'list': {
      out(['id', 'name', 'capabilities', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'].join('\t'));
      let cursor: string | undefined;
      do {
        const query: PageQueryDto = { limit: 100, cursor };
        const page = await keys.list(command.org, query);
        for (const k of page.data) {
          out([k.id, k.name, k.capabilities.join(','), k.createdAt, k.lastUsedAt ?? '-', k.expiresAt ?? '-', k.revokedAt ?? '-'].join('\t'));
        }
        cursor = page.nextCursor || undefined;
      } while (cursor);
      return;
    }
    case 'revoke': {
      const revoked = await keys.revoke(command.org, command.id);
      out(`API key ${revoked.id} of org "${command.org}" revoked at ${revoked.revokedAt}; gateways stop accepting it within 1 s over NATS (TRANSPORT=nats), otherwise or while NATS is unreachable within 5 s (their key cache).`);
      return;
    }
  }
}

/**
 * Runs a parsed command against the gateway's database: loads the configuration (exit 2 with the
 * usage when it is invalid), applies pending migrations and calls the API key service.
 */
export async function runCommand(command: Command): Promise<number> {
  let config: GatewayConfig;
  try {
    config = cliConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gateway: invalid configuration: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }

  @Module({ imports: [ConfigModule.forRoot(config), DatabaseModule, ApiKeysPersistenceModule], providers: [ApiKeysService] })
  class CliModule {}

  const app = await NestFactory.createApplicationContext(CliModule, { logger: false, abortOnError: false });
  try {
    await run(app, command);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`gateway: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await app.close();
  }
}
