import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC_HISTORY, type HistoryFetchPayload, type HistoryFetchResult } from '@wa/contracts/runtime';
import { HistoryService } from './history.service';

/** The runner's half of the history RPC. */
@Controller()
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @MessagePattern(RPC_HISTORY.fetch)
  fetch(@Payload() p: HistoryFetchPayload): Promise<HistoryFetchResult> {
    return this.history.fetch(p);
  }
}
