import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createGatewayEventsClient } from '@wa/contracts/runtime';
import { WaAuthCredsEntity, WaAuthKeyEntity } from '@wa/wa-adapter';
import { RunnerConfig } from '../config/runner.config';
import { EventOutbox, GATEWAY_EVENTS_CLIENT } from '../events/event-outbox';
import { RunnerEventEntity } from '../events/runner-event.entity';
import { MessageStore } from '../messages/message-store';
import { WaLidMappingEntity } from '../messages/wa-lid-mapping.entity';
import { WaMemberReceiptEntity } from '../messages/wa-member-receipt.entity';
import { WaChatEntity } from '../messages/wa-chat.entity';
import { WaContactEntity } from '../messages/wa-contact.entity';
import { WaCorrespondentEntity } from '../messages/wa-correspondent.entity';
import { WaMessageEntity } from '../messages/wa-message.entity';
import { WaPollVoteEntity } from '../messages/wa-poll-vote.entity';
import { MemberReceipts } from '../messages/member-receipts';
import { PendingRecords, PendingRecordsInterceptor } from '../messages/pending-records';
import { SendLog } from '../messages/send-log';
import { WaSendLogEntity } from '../messages/wa-send-log.entity';
import { ConnectionObservers } from './connection-observers';
import { RunnerSessionEntity } from './runner-session.entity';
import { SessionLeaseEntity } from './session-lease.entity';
import { SessionLeaseRepository } from './session-lease.repository';
import { SessionManager } from './session-manager';
import { SessionOwnershipGuard } from './session-ownership.guard';
import { SessionsController } from './sessions.controller';
import { StatusRecorder } from './status-recorder';
import { AUTH_STATE_STORE, authStateStoreProvider, waEngineProvider } from './wa-engine.provider';

@Module({
  imports: [
    TypeOrmModule.forFeature([
      RunnerSessionEntity,
      SessionLeaseEntity,
      WaMessageEntity,
      WaLidMappingEntity,
      WaPollVoteEntity,
      WaContactEntity,
      WaChatEntity,
      WaCorrespondentEntity,
      WaSendLogEntity,
      WaMemberReceiptEntity,
      RunnerEventEntity,
      WaAuthCredsEntity,
      WaAuthKeyEntity,
    ]),
  ],
  controllers: [SessionsController],
  providers: [
    {
      provide: GATEWAY_EVENTS_CLIENT,
      inject: [RunnerConfig],
      useFactory: (config: RunnerConfig) => createGatewayEventsClient(config.gatewayEvents),
    },
    EventOutbox,
    StatusRecorder,
    MessageStore,
    SendLog,
    MemberReceipts,
    SessionLeaseRepository,
    authStateStoreProvider,
    waEngineProvider,
    ConnectionObservers,
    SessionManager,
    PendingRecords,
    { provide: APP_GUARD, useClass: SessionOwnershipGuard },
    { provide: APP_INTERCEPTOR, useClass: PendingRecordsInterceptor },
  ],
  exports: [SessionManager, MessageStore, MemberReceipts, SendLog, PendingRecords, EventOutbox, ConnectionObservers, AUTH_STATE_STORE],
})
export class SessionsModule {}
