// The real gateway app with one extra route registered only by the send benchmark: POST
// /api/v1/bench/echo, public, no validation, no database, answering the body it parsed. It also
// creates a session and a send,manage API key and writes them to BENCH_INFO_FILE.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../apps/gateway/package.json', import.meta.url));
require('reflect-metadata');
const { Controller, Post, Body, HttpCode, Module } = require('@nestjs/common');
const { Public } = require('@wa/auth');
const { createGatewayApp } = require('../../apps/gateway/dist/app.factory.js');
const { loadGatewayConfig } = require('../../apps/gateway/dist/config/gateway.config.js');
const { ApiKeysService } = require('../../apps/gateway/dist/api-keys/api-keys.service.js');
const { SessionsService } = require('../../apps/gateway/dist/sessions/sessions.service.js');

class EchoController {
  echo(body) {
    return body;
  }
}
const echo = Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo');
Body()(EchoController.prototype, 'echo', 0);
Reflect.decorate([Post('echo'), HttpCode(200), Public()], EchoController.prototype, 'echo', echo);
Controller('bench')(EchoController);
class EchoModule {}
Module({ controllers: [EchoController] })(EchoModule);

// Rate limits on, as in production, with limits the bench never reaches: their cost is measured, not their refusals.
const config = loadGatewayConfig({
  RATE_LIMIT_PER_API_KEY: '100000000/60',
  RATE_LIMIT_PER_ORG: '100000000/60',
  ...process.env,
  LOG_LEVEL: 'silent',
  PORT: '0',
  HOST: '127.0.0.1',
});
const app = await createGatewayApp(config, { imports: [EchoModule], listenForRunnerEvents: process.env.BENCH_RUNNER === '1' });
await app.listen({ port: 0, host: '127.0.0.1' });
const org = 'bench-org';
const { token } = await app.get(ApiKeysService).issue(org, { name: 'bench', capabilities: ['send', 'manage'], expiresAt: null, createdBy: 'bench' });
const session = await app.get(SessionsService).create(org, { name: 'bench' });
writeFileSync(process.env.BENCH_INFO_FILE, JSON.stringify({ token, sessionId: session.id }));
console.log(`LISTENING ${app.getHttpServer().address().port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
