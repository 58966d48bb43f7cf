import type { ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { createRootLogger, gatewayEventsServerOptions, PinoNestLogger, requestContext } from '@wa/contracts';
import { newId } from '@wa/domain';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.config';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { buildOpenApiDocument } from './openapi/openapi';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honour a caller's `X-Request-Id` when it is harmless, so logs correlate across services. */
function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : newId();
}

export interface CreateGatewayOptions {
  /** Extra modules mounted beside the application's own (tests use it for probe routes). */
  imports?: ModuleMetadata['imports'];
  /** Listen for runner events (TCP or NATS); off only for tools that just need the routes. */
  listenForRunnerEvents?: boolean;
}

/** Builds the fully configured gateway without listening, for main, tests and the OpenAPI generator. */
export async function createGatewayApp(config: GatewayConfig, options: CreateGatewayOptions = {}): Promise<NestFastifyApplication> {
  const root = createRootLogger('gateway', config.logLevel);
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: requestIdFor,
    logger: false,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.imports), adapter, {
    logger: new PinoNestLogger(root),
    bufferLogs: false,
    // The JSON parser is registered below, with the body limit and empty-body handling.
    bodyParser: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  // Many clients send `Content-Type: application/json` on bodiless POSTs (start, stop, ...):
  // an empty body means "no body", anything else goes through Fastify's own safe parser.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.bodyLimitBytes }, (req, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    parseJson(req, text, done);
  });
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    requestContext.run({ requestId: String(req.id) }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    root.info({ requestId: req.id, method: req.method, url: req.routeOptions.url ?? req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    done();
  });

  const filter = new AllExceptionsFilter();
  app.useGlobalFilters(filter);
  app.setGlobalPrefix('api/v1', { exclude: ['health/live', 'health/ready'] });
  app.enableShutdownHooks();

  if (options.listenForRunnerEvents ?? true) {
    app.connectMicroservice(gatewayEventsServerOptions(config.gatewayEvents), { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.init();
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return app;
}
