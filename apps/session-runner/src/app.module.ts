import { Module, type DynamicModule } from '@nestjs/common';
import { CallsModule } from './calls/calls.module';
import { ChannelsModule } from './channels/channels.module';
import { ConfigModule } from './config/config.module';
import { ContactsModule } from './contacts/contacts.module';
import { GroupAdminModule } from './group-admin/group-admin.module';
import { CommunitiesModule } from './communities/communities.module';
import { GroupPoliciesModule } from './group-policies/group-policies.module';
import { HistoryModule } from './history/history.module';
import type { RunnerConfig } from './config/runner.config';
import { DatabaseModule } from './database/database.module';
import { PingController } from './health/ping.controller';
import { MediaModule } from './media/media.module';
import { MessagingModule } from './messaging/messaging.module';
import { MetricsModule } from './metrics/metrics.module';
import { PresenceModule } from './presence/presence.module';
import { ProfileModule } from './profile/profile.module';
import { SessionsModule } from './sessions/sessions.module';

@Module({})
export class RunnerAppModule {
  static forRoot(config: RunnerConfig): DynamicModule {
    return {
      module: RunnerAppModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, SessionsModule, MetricsModule, MessagingModule, ProfileModule, ContactsModule, PresenceModule, CallsModule, MediaModule, GroupPoliciesModule, GroupAdminModule, CommunitiesModule, ChannelsModule, HistoryModule],
      controllers: [PingController],
    };
  }
}
