import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  RPC_CHANNELS,
  type ChannelCreatePayload,
  type ChannelFollowPayload,
  type ChannelInfo,
  type ChannelKeyPayload,
  type ChannelMessageInfo,
  type ChannelMessagesPayload,
  type ChannelMutePayload,
  type ChannelReactPayload,
  type ChannelUpdatePayload,
  type SessionRef,
} from '@wa/contracts/runtime';
import { ChannelsService } from './channels.service';

/** The runner's half of the channels RPC. */
@Controller()
export class ChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @MessagePattern(RPC_CHANNELS.list)
  list(@Payload() p: SessionRef): Promise<{ data: ChannelInfo[] }> {
    return this.channels.list(p);
  }

  @MessagePattern(RPC_CHANNELS.get)
  get(@Payload() p: ChannelKeyPayload): Promise<ChannelInfo> {
    return this.channels.get(p);
  }

  @MessagePattern(RPC_CHANNELS.create)
  create(@Payload() p: ChannelCreatePayload): Promise<ChannelInfo> {
    return this.channels.create(p);
  }

  @MessagePattern(RPC_CHANNELS.update)
  update(@Payload() p: ChannelUpdatePayload): Promise<ChannelInfo> {
    return this.channels.update(p);
  }

  @MessagePattern(RPC_CHANNELS.delete)
  delete(@Payload() p: ChannelKeyPayload): Promise<Record<string, never>> {
    return this.channels.delete(p);
  }

  @MessagePattern(RPC_CHANNELS.follow)
  follow(@Payload() p: ChannelFollowPayload): Promise<ChannelInfo> {
    return this.channels.follow(p);
  }

  @MessagePattern(RPC_CHANNELS.mute)
  mute(@Payload() p: ChannelMutePayload): Promise<ChannelInfo> {
    return this.channels.mute(p);
  }

  @MessagePattern(RPC_CHANNELS.messages)
  messages(@Payload() p: ChannelMessagesPayload): Promise<{ data: ChannelMessageInfo[] }> {
    return this.channels.messages(p);
  }

  @MessagePattern(RPC_CHANNELS.react)
  react(@Payload() p: ChannelReactPayload): Promise<Record<string, never>> {
    return this.channels.react(p);
  }
}
