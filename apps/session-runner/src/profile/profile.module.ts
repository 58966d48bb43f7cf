import { Module } from '@nestjs/common';
import { MediaDownloader } from '../messaging/media-downloader';
import { SessionsModule } from '../sessions/sessions.module';
import { ProfileController } from './profile.controller';
import { ProfileService } from './profile.service';

/** Our profile and privacy settings, and what WhatsApp shows us of contacts' profiles. */
@Module({
  imports: [SessionsModule],
  controllers: [ProfileController],
  providers: [MediaDownloader, ProfileService],
})
export class ProfileModule {}
