import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AppError } from '@wa/domain';
import { loadRunnerConfig } from '../config/runner.config';
import { MediaDownloader } from './media-downloader';

describe(MediaDownloader.name, () => {
  let server: Server;
  let base: string;
  let connections = 0;
  const image = Buffer.alloc(4096, 7);

  const downloader = (env: Record<string, string>): MediaDownloader => new MediaDownloader(loadRunnerConfig({ MEDIA_MAX_BYTES: '10000', ...env }));
  const open = downloader({ MEDIA_ALLOW_PRIVATE_NETWORKS: 'true' });
  const strict = downloader({});

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/image') return void res.writeHead(200, { 'content-type': 'image/png' }).end(image);
      if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      if (req.url === '/huge-declared') return void res.writeHead(200, { 'content-length': '50000' }).end(Buffer.alloc(50000));
      if (req.url === '/huge-streamed') {
        res.writeHead(200);
        for (let i = 0; i < 20; i++) res.write(Buffer.alloc(1000));
        return void res.end();
      }
      res.writeHead(404).end();
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('downloads the bytes to a file, hands the file on instead of the URL and removes it on release', async () => {
    const { content, release } = await open.resolve({ type: 'image', media: { url: `${base}/image` }, caption: 'hi' });
    const file = (content as unknown as { media: { file: string } }).media.file;
    expect(content).toEqual({ type: 'image', media: { file: expect.any(String) }, caption: 'hi' });
    expect(readFileSync(file).equals(image)).toBe(true);
    await release();
    expect(existsSync(file)).toBe(false);
  });

  it('leaves inline media and other content alone', async () => {
    await expect(open.resolve({ type: 'text', text: 'x' })).resolves.toMatchObject({ content: { type: 'text', text: 'x' } });
    await expect(open.resolve({ type: 'sticker', media: { base64: 'AAAA' } })).resolves.toMatchObject({ content: { type: 'sticker', media: { base64: 'AAAA' } } });
  });

  it('leaves no file behind when the download fails', async () => {
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('wa-media-')).length;
    await expect(open.resolve({ type: 'image', media: { url: `${base}/huge-streamed` } })).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('wa-media-')).length).toBe(before);
  });

  it.each([`/image`, `localhost-name`])('refuses loopback targets (%s) without connecting when private networks are not allowed', async (which) => {
    const before = connections;
    const port = (server.address() as AddressInfo).port;
    const url = which === 'localhost-name' ? `http://localhost:${port}/image` : `${base}${which}`;
    const err = await strict.download(url, join(tmpdir(), 'runner-media-spec.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_error');
    expect((err as AppError).message).toMatch(/refused/);
    expect(connections).toBe(before);
  });

  it('does not follow redirects, which could point anywhere', async () => {
    await expect(open.download(`${base}/redirect`, join(tmpdir(), 'runner-media-spec.bin'))).rejects.toMatchObject({ code: 'validation_error', message: expect.stringMatching(/redirect/) });
  });

  it('stops at the size limit whether the server declares the size or not', async () => {
    await expect(open.download(`${base}/huge-declared`, join(tmpdir(), 'runner-media-spec.bin'))).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(open.download(`${base}/huge-streamed`, join(tmpdir(), 'runner-media-spec.bin'))).rejects.toMatchObject({ code: 'payload_too_large' });
  });

  it('reports HTTP errors and non-http schemes as bad input', async () => {
    await expect(open.download(`${base}/missing`, join(tmpdir(), 'runner-media-spec.bin'))).rejects.toMatchObject({ code: 'validation_error', message: expect.stringMatching(/404/) });
    await expect(open.download('file:///etc/passwd', join(tmpdir(), 'runner-media-spec.bin'))).rejects.toMatchObject({ code: 'validation_error' });
  });
});
