import { Module } from '@nestjs/common';
import { MediaDownloader } from '../messaging/media-downloader';
import { SessionsModule } from '../sessions/sessions.module';
import { GroupAdminController } from './group-admin.controller';
import { GroupAdminService } from './group-admin.service';

/** Group pictures, join requests and `group.join_request`. */
@Module({
  imports: [SessionsModule],
  controllers: [GroupAdminController],
  providers: [MediaDownloader, GroupAdminService],
})
export class GroupAdminModule {}
