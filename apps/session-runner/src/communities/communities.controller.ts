import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC_COMMUNITIES, type Community, type CommunityCreatePayload, type CommunityGroupPayload, type CommunityPayload, type CommunitySummary, type SessionRef } from '@wa/contracts/runtime';
import { CommunitiesService } from './communities.service';

/** The runner's half of the communities RPC. */
@Controller()
export class CommunitiesController {
  constructor(private readonly communities: CommunitiesService) {}

  @MessagePattern(RPC_COMMUNITIES.create)
  create(@Payload() p: CommunityCreatePayload): Promise<Community> {
    return this.communities.create(p);
  }

  @MessagePattern(RPC_COMMUNITIES.list)
  list(@Payload() p: SessionRef): Promise<{ data: CommunitySummary[] }> {
    return this.communities.list(p);
  }

  @MessagePattern(RPC_COMMUNITIES.get)
  get(@Payload() p: CommunityPayload): Promise<Community> {
    return this.communities.get(p);
  }

  @MessagePattern(RPC_COMMUNITIES.link)
  link(@Payload() p: CommunityGroupPayload): Promise<Community> {
    return this.communities.link(p);
  }

  @MessagePattern(RPC_COMMUNITIES.unlink)
  unlink(@Payload() p: CommunityGroupPayload): Promise<Record<string, never>> {
    return this.communities.unlink(p);
  }
}
