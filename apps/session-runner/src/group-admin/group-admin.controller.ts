import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  RPC_GROUP_ADMIN,
  type GroupJoinRequest,
  type GroupJoinRequestsPayload,
  type GroupJoinRequestsUpdatePayload,
  type GroupParticipantsResult,
  type GroupPicturePayload,
  type GroupPictureResult,
  type GroupPictureSetPayload,
} from '@wa/contracts/runtime';
import { GroupAdminService } from './group-admin.service';

/** The runner's half of the group picture and join request RPC. */
@Controller()
export class GroupAdminController {
  constructor(private readonly admin: GroupAdminService) {}

  @MessagePattern(RPC_GROUP_ADMIN.pictureGet)
  picture(@Payload() p: GroupPicturePayload): Promise<GroupPictureResult> {
    return this.admin.picture(p);
  }

  @MessagePattern(RPC_GROUP_ADMIN.pictureSet)
  setPicture(@Payload() p: GroupPictureSetPayload): Promise<GroupPictureResult> {
    return this.admin.setPicture(p);
  }

  @MessagePattern(RPC_GROUP_ADMIN.pictureRemove)
  removePicture(@Payload() p: GroupPicturePayload): Promise<Record<string, never>> {
    return this.admin.removePicture(p);
  }

  @MessagePattern(RPC_GROUP_ADMIN.joinRequests)
  joinRequests(@Payload() p: GroupJoinRequestsPayload): Promise<{ data: GroupJoinRequest[] }> {
    return this.admin.joinRequests(p);
  }

  @MessagePattern(RPC_GROUP_ADMIN.joinRequestsUpdate)
  updateJoinRequests(@Payload() p: GroupJoinRequestsUpdatePayload): Promise<GroupParticipantsResult> {
    return this.admin.updateJoinRequests(p);
  }
}
