import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  RPC_MESSAGING,
  type ChatListPayload,
  type ChatMessagesPayload,
  type ChatModifyPayload,
  type ChatRefPayload,
  type ChatState,
  type MessageStarPayload,
  type Label,
  type LabelAssignPayload,
  type StatusPostPayload,
  type StatusPostResult,
  type LabelAssignResult,
  type LabelCreatePayload,
  type LabelRefPayload,
  type LabelUpdatePayload,
  type MessageStarResult,
  type ChatSummary,
  type ContactExistsPayload,
  type ContactExistsResult,
  type ContactSummary,
  type ContactJidPayload,
  type ContactNamePayload,
  type ExecutePayload,
  type ExecuteResult,
  type GroupCreatePayload,
  type GroupGetPayload,
  type GroupInviteCodePayload,
  type GroupJoinPending,
  type GroupInvitePayload,
  type GroupInviteResult,
  type GroupListResult,
  type GroupSettingsPayload,
  type GroupUpdatePayload,
  type GroupParticipantsPayload,
  type GroupParticipantsResult,
  type GroupSummary,
  type LookupPayload,
  type LookupResult,
  type MarkReadPayload,
  type MarkReadResult,
  type MessageGetPayload,
  type MessageReceiptsPayload,
  type MemberReceipt,
  type Page,
  type PagePayload,
  type PresencePayload,
  type PresenceResult,
  type SessionRef,
  type StoredMessage,
} from '@wa/contracts/runtime';
import { ChatActions } from './chat-actions.service';
import { ChatOrganisation } from './chat-organisation.service';
import { ContactNames } from './contact-names.service';
import { LabelsService } from './labels.service';
import { StatusesService } from './statuses.service';
import { GroupsService } from './groups.service';
import { MessageReader } from './message-reader.service';
import { MessageSender } from './message-sender.service';
import { WithoutWaitingForRecords } from '../messages/pending-records';

/** The runner's half of the messaging RPC: one handler per RPC_MESSAGING pattern. */
@Controller()
export class MessagingController {
  constructor(
    private readonly sender: MessageSender,
    private readonly reader: MessageReader,
    private readonly chats: ChatActions,
    private readonly groups: GroupsService,
    private readonly organisation: ChatOrganisation,
    private readonly labels: LabelsService,
    private readonly statuses: StatusesService,
    private readonly contactNames: ContactNames,
  ) {}

  @MessagePattern(RPC_MESSAGING.execute)
  // A send's own records come after it; another send's need not come before.
  @WithoutWaitingForRecords()
  execute(@Payload() p: ExecutePayload): Promise<ExecuteResult> {
    return this.sender.execute(p);
  }

  @MessagePattern(RPC_MESSAGING.lookup)
  lookup(@Payload() p: LookupPayload): Promise<LookupResult> {
    return this.sender.lookup(p);
  }

  @MessagePattern(RPC_MESSAGING.markRead)
  markRead(@Payload() p: MarkReadPayload): Promise<MarkReadResult> {
    return this.chats.markRead(p);
  }

  @MessagePattern(RPC_MESSAGING.presence)
  presence(@Payload() p: PresencePayload): Promise<PresenceResult> {
    return this.chats.presence(p);
  }

  @MessagePattern(RPC_MESSAGING.chats)
  chatList(@Payload() p: ChatListPayload): Promise<Page<ChatSummary>> {
    return this.organisation.list(p);
  }

  @MessagePattern(RPC_MESSAGING.chatMessages)
  chatMessages(@Payload() p: ChatMessagesPayload): Promise<Page<StoredMessage>> {
    return this.reader.chatMessages(p);
  }

  @MessagePattern(RPC_MESSAGING.message)
  message(@Payload() p: MessageGetPayload): Promise<StoredMessage> {
    return this.reader.message(p);
  }

  @MessagePattern(RPC_MESSAGING.messageReceipts)
  messageReceipts(@Payload() p: MessageReceiptsPayload): Promise<Page<MemberReceipt>> {
    return this.reader.messageReceipts(p);
  }

  @MessagePattern(RPC_MESSAGING.contacts)
  contacts(@Payload() p: PagePayload): Promise<Page<ContactSummary>> {
    return this.reader.contacts(p);
  }

  @MessagePattern(RPC_MESSAGING.contact)
  contact(@Payload() p: ContactJidPayload): Promise<ContactSummary> {
    return this.contactNames.get(p);
  }

  @MessagePattern(RPC_MESSAGING.contactName)
  contactName(@Payload() p: ContactNamePayload): Promise<ContactSummary | Record<string, never>> {
    return this.contactNames.set(p);
  }

  @MessagePattern(RPC_MESSAGING.contactExists)
  contactExists(@Payload() p: ContactExistsPayload): Promise<ContactExistsResult> {
    return this.chats.contactExists(p);
  }

  @MessagePattern(RPC_MESSAGING.groups)
  groupList(@Payload() p: SessionRef): Promise<GroupListResult> {
    return this.groups.list(p);
  }

  @MessagePattern(RPC_MESSAGING.group)
  group(@Payload() p: GroupGetPayload): Promise<GroupSummary> {
    return this.groups.get(p);
  }

  @MessagePattern(RPC_MESSAGING.groupCreate)
  groupCreate(@Payload() p: GroupCreatePayload): Promise<GroupSummary> {
    return this.groups.create(p);
  }

  @MessagePattern(RPC_MESSAGING.groupParticipants)
  groupParticipants(@Payload() p: GroupParticipantsPayload): Promise<GroupParticipantsResult> {
    return this.groups.participants(p);
  }

  @MessagePattern(RPC_MESSAGING.groupUpdate)
  groupUpdate(@Payload() p: GroupUpdatePayload): Promise<GroupSummary> {
    return this.groups.update(p);
  }

  @MessagePattern(RPC_MESSAGING.groupSettings)
  groupSettings(@Payload() p: GroupSettingsPayload): Promise<GroupSummary> {
    return this.groups.settings(p);
  }

  @MessagePattern(RPC_MESSAGING.groupInvite)
  groupInvite(@Payload() p: GroupInvitePayload): Promise<GroupInviteResult> {
    return this.groups.invite(p);
  }

  @MessagePattern(RPC_MESSAGING.groupInviteRevoke)
  groupInviteRevoke(@Payload() p: GroupInvitePayload): Promise<GroupInviteResult> {
    return this.groups.revokeInvite(p);
  }

  @MessagePattern(RPC_MESSAGING.groupLeave)
  groupLeave(@Payload() p: GroupInvitePayload): Promise<Record<string, never>> {
    return this.groups.leave(p);
  }

  @MessagePattern(RPC_MESSAGING.groupInviteInfo)
  groupInviteInfo(@Payload() p: GroupInviteCodePayload): Promise<GroupSummary> {
    return this.groups.inviteInfo(p);
  }

  @MessagePattern(RPC_MESSAGING.groupInviteJoin)
  groupInviteJoin(@Payload() p: GroupInviteCodePayload): Promise<GroupSummary | GroupJoinPending> {
    return this.groups.join(p);
  }

  @MessagePattern(RPC_MESSAGING.chatModify)
  chatModify(@Payload() p: ChatModifyPayload): Promise<ChatState> {
    return this.organisation.modify(p);
  }

  @MessagePattern(RPC_MESSAGING.chatDelete)
  chatDelete(@Payload() p: ChatRefPayload): Promise<Record<string, never>> {
    return this.organisation.delete(p);
  }

  @MessagePattern(RPC_MESSAGING.chatClear)
  chatClear(@Payload() p: ChatRefPayload): Promise<Record<string, never>> {
    return this.organisation.clear(p);
  }

  @MessagePattern(RPC_MESSAGING.messageStar)
  messageStar(@Payload() p: MessageStarPayload): Promise<MessageStarResult> {
    return this.organisation.star(p);
  }

  @MessagePattern(RPC_MESSAGING.labels)
  labelList(@Payload() p: SessionRef): Promise<{ data: Label[] }> {
    return this.labels.list(p);
  }

  @MessagePattern(RPC_MESSAGING.labelCreate)
  labelCreate(@Payload() p: LabelCreatePayload): Promise<Label> {
    return this.labels.create(p);
  }

  @MessagePattern(RPC_MESSAGING.labelUpdate)
  labelUpdate(@Payload() p: LabelUpdatePayload): Promise<Label> {
    return this.labels.update(p);
  }

  @MessagePattern(RPC_MESSAGING.labelDelete)
  labelDelete(@Payload() p: LabelRefPayload): Promise<Record<string, never>> {
    return this.labels.delete(p);
  }

  @MessagePattern(RPC_MESSAGING.labelAssign)
  labelAssign(@Payload() p: LabelAssignPayload): Promise<LabelAssignResult> {
    return this.labels.assign(p);
  }

  @MessagePattern(RPC_MESSAGING.statusPost)
  statusPost(@Payload() p: StatusPostPayload): Promise<StatusPostResult> {
    return this.statuses.post(p);
  }
}
