import { keepConsoleTextOnly } from './silent.logger';

describe(keepConsoleTextOnly.name, () => {
  const saved = { ...console };
  afterEach(() => Object.assign(console, saved));

  it("keeps libsignal's words and drops the session record with its keys", () => {
    const lines: string[] = [];
    keepConsoleTextOnly((line) => lines.push(line));
    const privKey = Buffer.from('0badc0de0badc0de', 'hex');
    console.log('Closing session:', { currentRatchet: { ephemeralKeyPair: { privKey } } });
    console.warn('Closing open session in favor of incoming prekey bundle');
    console.info({ privKey });
    expect(lines).toEqual(['Closing session:\n', 'Closing open session in favor of incoming prekey bundle\n']);
    expect(lines.join('')).not.toMatch(/0b ad|0badc0de|privKey/);
  });
});
