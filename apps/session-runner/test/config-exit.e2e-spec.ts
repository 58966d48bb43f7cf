import { spawn } from 'node:child_process';
import { join } from 'node:path';

const RUNNER_MAIN = join(__dirname, '../dist/main.js');

function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUNNER_MAIN], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'sqlite::memory:', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The built runner as an operator starts it: a bad value is one line on stderr and exit code 2. */
describe('session-runner start-up with a malformed variable', () => {
  it.each([
    ['MEDIA_ALLOWED_CIDRS', '10.0.0.0/99'],
    ['WA_ROOT_PUBLIC_KEY', Buffer.alloc(31, 1).toString('base64')],
  ])('%s=%s stops it with exit code 2 and one line naming the variable', async (variable, value) => {
    const { code, stdout, stderr } = await runMain({ [variable]: value });
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(new RegExp(`^session-runner: invalid configuration: ${variable} [^\\n]+\\n$`));
  });
});
