import { AppError } from '@wa/domain';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

/**
 * The dashboard's pages allow only this origin's own scripts, styles and API, plus `blob:`
 * images (the QR PNG is fetched with the API key and shown through an object URL). No inline
 * script or style, no remote origin, no framing.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface DashboardAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * The dashboard files, read once at start from one flat folder. Serving only names found there
 * leaves no path to traverse; a file of an unknown type is not served at all.
 */
export class DashboardAssets {
  private readonly files = new Map<string, DashboardAsset>();

  constructor(readonly dir: string) {
    for (const name of readdirSync(dir)) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) this.files.set(name, { body: readFileSync(join(dir, name)), contentType });
    }
    if (!this.files.has('index.html')) throw new Error(`dashboard assets missing: no index.html in ${dir}`);
  }

  get(name: string): DashboardAsset {
    const asset = this.files.get(name);
    if (!asset) throw new AppError('not_found', `no dashboard file ${name}`);
    return asset;
  }
}
