import { parseCommand, UsageError } from './cli-args';

describe('gateway CLI arguments', () => {
  it.each([
    ['no arguments', [], /no command given/],
    ['an unknown command', ['user', 'create'], /unknown command "user"/],
    ['an unknown action', ['api-key', 'rotate', '--org', 'a'], /unknown action "api-key rotate"/],
    ['a missing action', ['api-key'], /missing action/],
    ['a stray argument', ['api-key', 'list', 'extra', '--org', 'a'], /unexpected argument "extra"/],
    ['a missing --org', ['api-key', 'create', '--capabilities', 'send'], /--org is required/],
    ['a blank --org', ['api-key', 'list', '--org', '  '], /--org is required/],
    ['an --org over 128 characters', ['api-key', 'list', '--org', 'o'.repeat(129)], /at most 128/],
    ['a missing --capabilities', ['api-key', 'create', '--org', 'a'], /--capabilities is required/],
    ['an unknown capability', ['api-key', 'create', '--org', 'a', '--capabilities', 'send,root'], /"root" is not one of/],
    ['only commas as capabilities', ['api-key', 'create', '--org', 'a', '--capabilities', ',,'], /at least one capability/],
    ['a zero --expires-in-days', ['api-key', 'create', '--org', 'a', '--capabilities', 'send', '--expires-in-days', '0'], /whole number of days/],
    ['a fractional --expires-in-days', ['api-key', 'create', '--org', 'a', '--capabilities', 'send', '--expires-in-days', '1.5'], /whole number of days/],
    ['a name over 200 characters', ['api-key', 'create', '--org', 'a', '--capabilities', 'send', '--name', 'n'.repeat(201)], /--name must be/],
    ['an unknown option', ['api-key', 'list', '--org', 'a', '--verbose'], /verbose/],
    ['an option of another action', ['api-key', 'list', '--org', 'a', '--id', 'x'], /--id is not an option of "api-key list"/],
    ['a missing --id', ['api-key', 'revoke', '--org', 'a'], /--id is required/],
  ])('refuses %s as a usage error', (_name, argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('reads each action with its options, trimmed and typed', () => {
    expect(parseCommand(['api-key', 'create', '--org', ' acme ', '--capabilities', 'send, manage', '--name', 'ops', '--expires-in-days', '7'])).toEqual({
      action: 'create',
      org: 'acme',
      capabilities: ['send', 'manage'],
      name: 'ops',
      expiresInDays: 7,
    });
    expect(parseCommand(['api-key', 'create', '--org', 'acme', '--capabilities', 'send'])).toEqual({
      action: 'create',
      org: 'acme',
      capabilities: ['send'],
      name: 'created with the CLI',
      expiresInDays: null,
    });
    expect(parseCommand(['api-key', 'list', '--org', 'acme'])).toEqual({ action: 'list', org: 'acme' });
    expect(parseCommand(['api-key', 'revoke', '--org', 'acme', '--id', 'K1'])).toEqual({ action: 'revoke', org: 'acme', id: 'K1' });
    expect(parseCommand(['--help'])).toBe('help');
  });
});
