import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { GroupPoliciesController } from './group-policies.controller';
import { GroupPoliciesService } from './group-policies.service';

/** Group policies (member-add mode, join approval, disappearing messages) and `group.joined`. */
@Module({
  imports: [SessionsModule],
  controllers: [GroupPoliciesController],
  providers: [GroupPoliciesService],
})
export class GroupPoliciesModule {}
