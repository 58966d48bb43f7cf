import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC_GROUP_POLICIES, type GroupPoliciesGetPayload, type GroupPoliciesResult, type GroupPoliciesSetPayload } from '@wa/contracts/runtime';
import { GroupPoliciesService } from './group-policies.service';

/** The runner's half of the group policies RPC. */
@Controller()
export class GroupPoliciesController {
  constructor(private readonly policies: GroupPoliciesService) {}

  @MessagePattern(RPC_GROUP_POLICIES.get)
  get(@Payload() p: GroupPoliciesGetPayload): Promise<GroupPoliciesResult> {
    return this.policies.get(p);
  }

  @MessagePattern(RPC_GROUP_POLICIES.set)
  set(@Payload() p: GroupPoliciesSetPayload): Promise<GroupPoliciesResult> {
    return this.policies.set(p);
  }
}
