import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { GroupAdminController } from './group-admin.controller';

/** Group pictures and join requests, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [GroupAdminController],
})
export class GroupAdminModule {}
