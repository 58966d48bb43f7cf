import { Global, Module } from '@nestjs/common';
import { GatewayMetrics } from './gateway-metrics';
import { StoreGauges } from './store-gauges';

/** Infrastructure like the config: global, so that the outbox, webhooks and events record into it without importing it. */
@Global()
@Module({
  providers: [GatewayMetrics, StoreGauges],
  exports: [GatewayMetrics],
})
export class MetricsModule {}
