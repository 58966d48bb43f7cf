// What `gateway <command>` was asked to do, from its arguments alone: no configuration, database or
// Nest is touched, so every mistake in a command line is found (and tested) without starting one.
import { CAPABILITIES, isCapability, type Capability } from '@wa/domain';
import { parseArgs } from 'node:util';

export const USAGE = `usage:
  gateway api-key create --org <org> --capabilities <send,manage> [--name <name>] [--expires-in-days <n>]
  gateway api-key list   --org <org>
  gateway api-key revoke --org <org> --id <key id>

Uses the gateway's own configuration (DATABASE_URL, or GATEWAY_DATABASE_URL as \`pnpm start\` does)
and applies pending migrations first. Capabilities: ${CAPABILITIES.join(', ')}.
`;

/** A mistake in how the command was called: exit 2 with the usage, like the gateway's bad config. */
export class UsageError extends Error {}

const OPTIONS = {
  org: { type: 'string' },
  capabilities: { type: 'string' },
  name: { type: 'string' },
  'expires-in-days': { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export type Command =
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

export function parseCommand(argv: string[]): Command | 'help' {
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
