import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints (API), the fan-out of events into deliveries, and the delivery worker. */
@Module({
  imports: [EventsModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService, WebhookDeliveryWorker],
})
export class WebhooksModule {}
