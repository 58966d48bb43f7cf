import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PageQueryDto } from '@wa/contracts';
import { AppError, CAPABILITIES, ConfigError, isCapability, type Capability } from '@wa/domain';
import { parseArgs } from 'node:util';
import { ApiKeysPersistenceModule } from './api-keys/api-keys-persistence.module';
import { ApiKeysService } from './api-keys/api-keys.service';
import { ConfigModule } from './config/config.module';
import { loadGatewayConfig, type GatewayConfig } from './config/gateway.config';
import { DatabaseModule } from './database/database.module';

const USAGE = `usage:
  gateway api-key create --org <org> --capabilities <send,manage> [--name <name>] [--expires-in-days <n>]
  gateway api-key list   --org <org>
  gateway api-key revoke --org <org> --id <key id>

Uses the gateway's own configuration (DATABASE_URL, or GATEWAY_DATABASE_URL as \`pnpm start\` does)
and applies pending migrations first. Capabilities: ${CAPABILITIES.join(', ')}.
`;

/** A mistake in how the command was called: exit 2 with the usage, like the gateway's bad config. */
class UsageError extends Error {}

const OPTIONS = {
  org: { type: 'string' },
  capabilities: { type: 'string' },
  name: { type: 'string' },
  'expires-in-days': { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

type Command =
  | { action: 'create'; org: string; capabilities: Capability[]; name: string; expiresInDays: number | null }
  | { action: 'list'; org: string }
  | { action: 'revoke'; org: string; id: string };

function required(values: Values, name: 'org' | 'capabilities' | 'id'): string {
  const value = values[name]?.trim();
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function allowOnly(values: Values, action: string, allowed: readonly string[]): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && name !== 'help' && !allowed.includes(name)) throw new UsageError(`--${name} is not an option of "api-key ${action}"`);
  }
}

function parseCommand(argv: string[]): Command | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [group, action, ...rest] = positionals;
  if (group !== 'api-key') throw new UsageError(group ? `unknown command "${group}"` : 'no command given');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const org = () => {
    const value = required(values, 'org');
    if (value.length > 128) throw new UsageError('--org must be at most 128 characters');
    return value;
  };
  switch (action) {
    case 'create': {
      allowOnly(values, action, ['org', 'capabilities', 'name', 'expires-in-days']);
      const capabilities = required(values, 'capabilities').split(',').map((c) => c.trim()).filter(Boolean);
      const unknown = capabilities.find((c) => !isCapability(c));
      if (unknown !== undefined) throw new UsageError(`--capabilities: "${unknown}" is not one of ${CAPABILITIES.join(', ')}`);
      if (capabilities.length === 0) throw new UsageError('--capabilities needs at least one capability');
      const name = values.name?.trim() ?? 'created with the CLI';
      if (name.length < 1 || name.length > 200) throw new UsageError('--name must be 1 to 200 characters');
      let expiresInDays: number | null = null;
      if (values['expires-in-days'] !== undefined) {
        expiresInDays = Number(values['expires-in-days']);
        if (!/^\d+$/.test(values['expires-in-days']) || expiresInDays < 1 || expiresInDays > 36_500) {
          throw new UsageError('--expires-in-days must be a whole number of days from 1 to 36500');
        }
      }
      return { action, org: org(), capabilities: capabilities as Capability[], name, expiresInDays };
    }
    case 'list':
      allowOnly(values, action, ['org']);
      return { action, org: org() };
    case 'revoke':
      allowOnly(values, action, ['org', 'id']);
      return { action, org: org(), id: required(values, 'id') };
    default:
      throw new UsageError(action ? `unknown action "api-key ${action}"` : 'missing action after "api-key"');
  }
}

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

async function main(argv: string[]): Promise<number> {
  let command: Command | 'help';
  let config: GatewayConfig;
  try {
    command = parseCommand(argv);
    if (command === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    config = cliConfig();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`gateway: ${err instanceof ConfigError ? 'invalid configuration: ' : ''}${err.message}\n\n${USAGE}`);
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gateway: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
