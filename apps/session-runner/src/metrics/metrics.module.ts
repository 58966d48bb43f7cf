import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { ConnectionObservers } from '../sessions/connection-observers';
import { SessionsModule } from '../sessions/sessions.module';
import { MetricsServer } from './metrics.server';
import { RunnerMetrics } from './runner-metrics';

/** Global so that messaging counts its sends without importing this module. */
@Global()
@Module({
  imports: [SessionsModule],
  providers: [RunnerMetrics, MetricsServer],
  exports: [RunnerMetrics],
})
export class MetricsModule implements OnModuleInit {
  constructor(
    private readonly observers: ConnectionObservers,
    private readonly metrics: RunnerMetrics,
  ) {}

  /** Before any session resumes (that happens at bootstrap), like the other observers. */
  onModuleInit(): void {
    this.observers.register((ref, connection) => this.metrics.observe(ref.sessionId, connection));
  }
}
