// The real gateway app (Fastify adapter, global filter, pipes, request ids, logging hooks) on
// an in-memory database, for benchmarks that hit routes which need no runner.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { createGatewayApp } = require('../../apps/gateway/dist/app.factory.js');
const { loadGatewayConfig } = require('../../apps/gateway/dist/config/gateway.config.js');

const config = loadGatewayConfig({ DATABASE_URL: process.env.DATABASE_URL ?? 'sqlite::memory:', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1' });
const app = await createGatewayApp(config);
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`LISTENING ${app.getHttpServer().address().port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
