import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunnerSessionEntity } from '../sessions/runner-session.entity';
import { SessionsModule } from '../sessions/sessions.module';
import { CallsController } from './calls.controller';
import { CallsService } from './calls.service';

/** Incoming calls: events, rejection, and automatic rejection per session. */
@Module({
  imports: [SessionsModule, TypeOrmModule.forFeature([RunnerSessionEntity])],
  controllers: [CallsController],
  providers: [CallsService],
})
export class CallsModule {}
