import { ConfigError, envBool, envInt, parseDatabaseUrl } from './config';

describe('environment readers', () => {
  it('name the variable and the bad value', () => {
    expect(() => envInt({ PORT: '80a' }, 'PORT', 3000)).toThrow(new ConfigError('PORT', 'must be an integer (got "80a")'));
    expect(() => envInt({ PORT: '70000' }, 'PORT', 3000, 0, 65535)).toThrow(/PORT must be between 0 and 65535/);
    expect(() => envBool({ X: 'maybe' }, 'X', false)).toThrow(/X must be true or false/);
  });

  it('fall back to defaults on unset or empty values', () => {
    expect(envInt({}, 'PORT', 3000)).toBe(3000);
    expect(envInt({ PORT: '' }, 'PORT', 3000)).toBe(3000);
    expect(envBool({ X: 'yes' }, 'X', false)).toBe(true);
  });
});

describe('parseDatabaseUrl', () => {
  it('reads SQLite paths and PostgreSQL URLs with an optional schema', () => {
    expect(parseDatabaseUrl('DATABASE_URL', 'sqlite:./data/gateway.db')).toEqual({ kind: 'sqlite', path: './data/gateway.db' });
    expect(parseDatabaseUrl('DATABASE_URL', 'postgres://u@db:5432/wa?schema=gw')).toEqual({ kind: 'postgres', url: 'postgres://u@db:5432/wa', schema: 'gw' });
  });

  it('refuses other databases without echoing credentials', () => {
    let message = '';
    try {
      parseDatabaseUrl('DATABASE_URL', 'mysql://admin:hunter2@db/wa');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^DATABASE_URL must start with sqlite: or postgres:\/\//);
    expect(message).not.toContain('hunter2');
  });

  it('refuses schema names that could inject SQL', () => {
    expect(() => parseDatabaseUrl('DATABASE_URL', 'postgres://u@db/wa?schema=x";drop')).toThrow(/invalid schema/);
  });
});
