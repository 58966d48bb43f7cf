import type { ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { joinRoutePath, listPublicRoutes, RequestAuthenticator } from '@wa/auth';
import { createRootLogger, gatewayEventsServerOptions, PinoNestLogger, requestContext } from '@wa/contracts';
import { newId } from '@wa/domain';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.config';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { createClientErrorHandler, createFrameworkErrorHandler } from './http/client-errors';
import { EdgeHooks } from './http/edge.hooks';
import { registerJsonBodyParser } from './http/json-body.parser';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { installMetrics } from './metrics/metrics.http';
import { redactUrl } from './http/log-redaction';
import { UrlNulInterceptor } from './http/url-nul.interceptor';
import { buildOpenApiDocument } from './openapi/openapi';

const GLOBAL_PREFIX = 'api/v1';
const UNPREFIXED_ROUTES = ['health/live', 'health/ready', 'dashboard', 'dashboard/:asset'] as const;
// Swagger UI and the document: registered on Fastify directly, not through a controller.
const DOCS_ROUTE = /^\/docs(?:-json|-yaml|\/.*)?$/;

/**
 * `METHOD /url` of every `@Public()` controller route as Fastify matches it, with the global
 * prefix applied as Nest applies it.
 */
function publicControllerRoutes(app: NestFastifyApplication): string[] {
  const unprefixed = new Set<string>(UNPREFIXED_ROUTES);
  return listPublicRoutes(app).map(({ method, path }) => `${method} ${unprefixed.has(path.slice(1)) ? path : joinRoutePath(GLOBAL_PREFIX, path)}`);
}

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
  const root = createRootLogger('gateway', config.logLevel, config.logFormat);
  const { http } = config;
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: requestIdFor,
    logger: false,
    // Our edge hooks answer during shutdown instead, in the envelope.
    return503OnClosing: false,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: http.maxParamLength },
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      maxHeaderSize: http.maxHeaderBytes,
      // Node checks the two timeouts above only this often (30 s by default): keep the check
      // a fraction of the shorter one so that they hold to within a quarter of their length.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(http.headersTimeoutMs / 4))),
    },
    clientErrorHandler: createClientErrorHandler(root),
    frameworkErrors: createFrameworkErrorHandler(root),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.imports), adapter, {
    logger: new PinoNestLogger(root),
    bufferLogs: false,
    // The JSON parser is registered below, with the body limit and empty-body handling.
    bodyParser: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  registerJsonBodyParser(fastify, config.bodyLimitBytes, http.maxJsonDepth);
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    requestContext.run({ requestId: String(req.id) }, done);
  });
  const edge = new EdgeHooks({ authenticator: app.get(RequestAuthenticator), maxJsonDepth: http.maxJsonDepth });
  edge.install(fastify);
  const metricsRoutes = installMetrics(fastify, app.get(GatewayMetrics), config.metricsToken);
  const docsRoutes: string[] = [];
  fastify.addHook('onRoute', (route) => {
    if (DOCS_ROUTE.test(route.url)) for (const method of [route.method].flat()) docsRoutes.push(`${method} ${route.url}`);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    root.info({ requestId: req.id, method: req.method, url: req.routeOptions.url ?? redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    done();
  });

  const filter = new AllExceptionsFilter();
  app.useGlobalFilters(filter);
  app.useGlobalInterceptors(new UrlNulInterceptor());
  app.setGlobalPrefix(GLOBAL_PREFIX, { exclude: [...UNPREFIXED_ROUTES] });
  app.enableShutdownHooks();

  if (options.listenForRunnerEvents ?? true) {
    app.connectMicroservice(gatewayEventsServerOptions(config.gatewayEvents), { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.init();
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  edge.setPublicRoutes([...publicControllerRoutes(app), ...docsRoutes, ...metricsRoutes]);
  return app;
}
