import type { RunnerEvent } from '@wa/contracts';
import type { EventsService } from '../events/events.service';
import type { OutboxEvents } from '../messages/outbox.events';
import type { SessionsService } from '../sessions/sessions.service';
import { RunnerEventsController } from './runner-events.controller';

describe(RunnerEventsController.name, () => {
  const event = (id: string, type: string, extra: Partial<RunnerEvent> = {}): RunnerEvent =>
    ({ id, orgId: 'org-1', sessionId: 'S1', type, data: {}, occurredAt: 1_700_000_000_000, ...extra }) as RunnerEvent;

  function setup() {
    const sessions = { applyRunnerEvents: jest.fn().mockResolvedValue(undefined) };
    const outbox = { apply: jest.fn().mockResolvedValue(new Map<string, string>()) };
    const events = { publish: jest.fn().mockResolvedValue([]) };
    const controller = new RunnerEventsController(sessions as unknown as SessionsService, events as unknown as EventsService, outbox as unknown as OutboxEvents);
    jest.spyOn(controller['logger'], 'error').mockImplementation(() => undefined);
    return { controller, sessions, outbox, events };
  }

  it('records every event with the runner row id as source id, so redelivery records nothing twice', async () => {
    const { controller, events } = setup();
    await expect(controller.ingest({ runnerId: 'r1', events: [event('E1', 'session.status'), event('E2', 'message.received')] })).resolves.toEqual({ recorded: 2 });
    expect(events.publish).toHaveBeenCalledWith([
      expect.objectContaining({ sourceId: 'E1', type: 'session.status', orgId: 'org-1', sessionId: 'S1' }),
      expect.objectContaining({ sourceId: 'E2', type: 'message.received' }),
    ]);
  });

  it('acknowledges but does not record events it can never record, so they cannot block the rest', async () => {
    const { controller, sessions, outbox, events } = setup();
    const batch = [event('E1', 'session.status'), event('E2', 'message.teleported'), event('E3', 'message.received', { orgId: '' }), event('E4', 'poll.vote')];
    await expect(controller.ingest({ runnerId: 'r1', events: batch })).resolves.toEqual({ recorded: 2 });
    const kept = [batch[0], batch[3]];
    expect(sessions.applyRunnerEvents).toHaveBeenCalledWith(kept);
    expect(outbox.apply).toHaveBeenCalledWith(kept);
    expect((events.publish.mock.calls[0][0] as { sourceId: string }[]).map((i) => i.sourceId)).toEqual(['E1', 'E4']);
    expect(controller['logger'].error).toHaveBeenCalledTimes(2);
  });
});
