import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { ConfigModule } from './config/config.module';
import { ChannelsModule } from './channels/channels.module';
import { ContactsModule } from './contacts/contacts.module';
import { HistoryModule } from './history/history.module';
import type { GatewayConfig } from './config/gateway.config';
import { GatewayAuthModule } from './auth/gateway-auth.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProfileModule } from './profile/profile.module';
import { GroupAdminModule } from './group-admin/group-admin.module';
import { CommunitiesModule } from './communities/communities.module';
import { RunnerModule } from './runner/runner.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { RunnerEventsModule } from './runner-events/runner-events.module';
import { SessionsModule } from './sessions/sessions.module';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, extra: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, MetricsModule, GatewayAuthModule, RunnerModule, HealthModule, EventsModule, WebhooksModule, ApiKeysModule, SessionsModule, MessagesModule, ProfileModule, GroupAdminModule, CommunitiesModule, ContactsModule, ChannelsModule, HistoryModule, RunnerEventsModule, DashboardModule, ...extra],
    };
  }
}
