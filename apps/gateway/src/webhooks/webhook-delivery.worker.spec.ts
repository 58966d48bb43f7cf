import type { EventsService } from '../events/events.service';
import { loadGatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { WebhooksRepository } from './webhooks.repository';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';

describe(WebhookDeliveryWorker.name, () => {
  const config = loadGatewayConfig({ DATABASE_URL: 'sqlite::memory:', WEBHOOK_WORKER: 'false' });
  const outcome = { result: 'delivered', job: { id: 'D1', claimToken: 't', event: { recordedAt: 1000 } }, attempt: { id: 'A1', attemptedAt: 1500, latencyMs: 20 } };

  function worker(record: jest.Mock) {
    // The flush wakes the claim loop afterwards; there is nothing left to claim.
    const repo = { record, claim: jest.fn().mockResolvedValue([]) } as unknown as WebhooksRepository;
    const w = new WebhookDeliveryWorker(repo, { publish: jest.fn() } as unknown as EventsService, config, new GatewayMetrics());
    jest.spyOn(w['logger'], 'warn').mockImplementation(() => undefined);
    return w;
  }

  afterEach(() => jest.useRealTimers());

  it('writes a batch of results again when the write fails once, instead of waiting for the claims to expire', async () => {
    const record = jest.fn().mockRejectedValueOnce(new Error('deadlock detected')).mockResolvedValueOnce([]);
    const w = worker(record);
    w['inFlight'] = 1;
    w['pending'].push(outcome as never);
    await w['flush']();
    expect(record).toHaveBeenCalledTimes(2);
    expect(record.mock.calls[1][0]).toEqual([outcome]);
    expect(w['inFlight']).toBe(0);
    await w.onApplicationShutdown();
  });

  it('gives up after a few attempts and leaves the deliveries to their claim expiry', async () => {
    const record = jest.fn().mockRejectedValue(new Error('database is gone'));
    const w = worker(record);
    w['inFlight'] = 1;
    w['pending'].push(outcome as never);
    await w['flush']();
    expect(record).toHaveBeenCalledTimes(4);
    expect(w['inFlight']).toBe(0);
    expect(w['logger'].warn).toHaveBeenCalledWith(expect.objectContaining({ msg: 'recording delivery results failed', count: 1 }));
    await w.onApplicationShutdown();
  });
});
