import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { globalAgent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { encryptMedia, WaSandbox } from '@wa/wa-sandbox';
import { downloadMediaToFile, WaMediaError, type WaMediaReference } from '../src/media-download';

/** The runner's download of received media against the sandbox's HTTPS media host. */
describe(downloadMediaToFile.name, () => {
  let sandbox: WaSandbox;
  let dir: string;
  const plaintext = randomBytes(200_000);
  const encrypted = encryptMedia(plaintext, 'video');
  let directPath: string;

  const reference = (changes: Partial<WaMediaReference> = {}): WaMediaReference => ({
    kind: 'video',
    directPath,
    mediaKey: encrypted.mediaKey,
    fileEncSha256: encrypted.fileEncSha256,
    fileSha256: encrypted.fileSha256,
    mimetype: 'video/mp4',
    ...changes,
  });
  const download = (ref: WaMediaReference, file = join(dir, randomBytes(4).toString('hex'))) =>
    downloadMediaToFile(ref, { baseUrl: sandbox.mediaBaseUrl, file, maxBytes: 1_000_000, timeoutMs: 10_000 }).then((r) => ({ ...r, file }));

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    // What NODE_EXTRA_CA_CERTS does for the runner, which starts with it.
    globalAgent.options.ca = [...rootCertificates, readFileSync(sandbox.mediaCaFile, 'utf8')];
    dir = mkdtempSync(join(tmpdir(), 'media-download-'));
    const { auth, host } = sandbox.mediaUploadAuth();
    const hash = createHash('sha256').update(encrypted.encrypted).digest('base64url');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`https://${host}/mms/video/${hash}?auth=${encodeURIComponent(auth)}&token=${hash}`, { method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(encrypted.encrypted);
    });
    directPath = (JSON.parse(body) as { direct_path: string }).direct_path;
  });

  afterAll(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams, verifies and decrypts the file to the exact plaintext', async () => {
    const { size, file } = await download(reference());
    expect(size).toBe(plaintext.length);
    expect(readFileSync(file).equals(plaintext)).toBe(true);
  });

  it.each([
    ['the plaintext hash', { fileSha256: createHash('sha256').update('other').digest() }, /plaintext hash/],
    ['the ciphertext hash', { fileEncSha256: createHash('sha256').update('other').digest() }, /ciphertext hash/],
    ['the MAC (another media key)', { mediaKey: randomBytes(32), fileEncSha256: encrypted.fileEncSha256 }, /MAC/],
  ])('refuses a file whose %s does not match and leaves no file behind', async (_what, changes, message) => {
    const file = join(dir, 'refused');
    const error = await download(reference(changes), file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaMediaError);
    expect(error).toMatchObject({ reason: 'verification', message: expect.stringMatching(message) });
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a file larger than the cap', async () => {
    await expect(downloadMediaToFile(reference(), { baseUrl: sandbox.mediaBaseUrl, file: join(dir, 'big'), maxBytes: 1000, timeoutMs: 10_000 })).rejects.toMatchObject({ reason: 'too_large' });
  });

  it('reports an expired file (410) as expired, for a re-upload', async () => {
    sandbox.expireMedia();
    await expect(download(reference())).rejects.toMatchObject({ reason: 'expired', status: 410 });
  });
});
