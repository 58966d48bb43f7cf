import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ListReads } from '../messages/list-reads';
import { WaChatStateEntity } from '../messages/wa-chat-state.entity';
import { WaLabelAssociationEntity, WaLabelEntity } from '../messages/wa-label.entity';
import { SessionsModule } from '../sessions/sessions.module';
import { ChatActions } from './chat-actions.service';
import { ChatOrganisationObserver } from './chat-organisation.observer';
import { ChatOrganisation } from './chat-organisation.service';
import { ChatStateStore } from './chat-state.store';
import { ContactNames } from './contact-names.service';
import { LabelStore } from './label.store';
import { LabelsService } from './labels.service';
import { StatusesService } from './statuses.service';
import { GroupsService } from './groups.service';
import { MediaDownloader } from './media-downloader';
import { MessageReader } from './message-reader.service';
import { MessageSender } from './message-sender.service';
import { MessagingController } from './messaging.controller';
import { MessagingObserver } from './messaging.observer';

/** Sending, reading and group management on the sessions this runner owns. */
@Module({
  imports: [SessionsModule, TypeOrmModule.forFeature([WaChatStateEntity, WaLabelEntity, WaLabelAssociationEntity])],
  controllers: [MessagingController],
  providers: [MessagingObserver, MediaDownloader, MessageSender, ListReads, MessageReader, ChatActions, GroupsService, ChatStateStore, ChatOrganisation, ChatOrganisationObserver, LabelStore, LabelsService, StatusesService, ContactNames],
})
export class MessagingModule {}
