import { createGatewayApp } from '../app.factory';
import { loadGatewayConfig } from '../config/gateway.config';
import { buildOpenApiDocument, stableStringify } from './openapi';

/**
 * The committed document is built from an app with an in-memory database and no runner: the
 * API surface does not depend on either, and generation must work on any machine.
 */
export async function renderOpenApiDocument(): Promise<string> {
  const config = loadGatewayConfig({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' });
  const app = await createGatewayApp(config, { listenForRunnerEvents: false });
  try {
    return stableStringify(buildOpenApiDocument(app));
  } finally {
    await app.close();
  }
}
