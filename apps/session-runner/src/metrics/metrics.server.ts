import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { RunnerConfig } from '../config/runner.config';
import { RunnerMetrics } from './runner-metrics';

/**
 * The runner's only HTTP listener: `GET /metrics` (Prometheus text) and `GET /health` (alive),
 * on METRICS_PORT when it is set. Everything else is 404; nothing here reads a request body.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server: Server | undefined;

  constructor(
    private readonly metrics: RunnerMetrics,
    private readonly config: RunnerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { port, host } = this.config.metrics;
    if (port === undefined) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const readOnly = req.method === 'GET' || req.method === 'HEAD';
      if (readOnly && path === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
          (err: Error) => {
            this.logger.error({ msg: 'collecting metrics failed', error: err.message });
            reply(res, 500, 'internal_error', 'collecting metrics failed');
          },
        );
      } else if (readOnly && path === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : '{"status":"ok"}');
      } else {
        reply(res, 404, 'not_found', 'only GET /metrics and GET /health are served here');
      }
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    server.listen(port, host);
    await once(server, 'listening');
    this.server = server;
    this.logger.log({ msg: 'metrics listening', host, port });
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function reply(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message, details: {} } }));
}
