import type { EventsService } from '../events/events.service';
import { loadGatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { DeliveryJob, DeliveryOutcome, WebhooksRepository } from './webhooks.repository';
import { RUN_LENGTH, WebhookDeliveryWorker } from './webhook-delivery.worker';

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

  /** A queue holding one delivery that was sent and whose result waits to be written. */
  function held(w: WebhookDeliveryWorker) {
    const queue = { waiting: [], sending: false, unwritten: 1, halted: false, idleAfterClaim: 0, holdUntil: 0 };
    w['queues'].set('H1\u0000s1', queue);
    return queue;
  }

  afterEach(() => jest.useRealTimers());

  it('writes a batch of results again when the write fails once, instead of waiting for the claims to expire', async () => {
    const record = jest.fn().mockRejectedValueOnce(new Error('deadlock detected')).mockResolvedValueOnce([]);
    const w = worker(record);
    const queue = held(w);
    w['pending'].push({ queue, outcome } as never);
    await w['flush']();
    expect(record).toHaveBeenCalledTimes(2);
    expect(record.mock.calls[1][0]).toEqual([outcome]);
    expect(w['inFlight']()).toBe(0);
    expect(queue.halted).toBe(false);
    await w.onApplicationShutdown();
  });

  it('gives up after a few attempts and leaves the deliveries to their claim expiry', async () => {
    const record = jest.fn().mockRejectedValue(new Error('database is gone'));
    const w = worker(record);
    const queue = held(w);
    w['pending'].push({ queue, outcome } as never);
    await w['flush']();
    expect(record).toHaveBeenCalledTimes(4);
    expect(w['inFlight']()).toBe(0);
    // Its deliveries stay claimed until the leases run out: the queue sends nothing meanwhile.
    expect(queue.halted).toBe(true);
    expect(w['queues'].size).toBe(1);
    expect(w['logger'].warn).toHaveBeenCalledWith(expect.objectContaining({ msg: 'recording delivery results failed', count: 1 }));
    await w.onApplicationShutdown();
  });

  describe('runs', () => {
    const job = (seq: number, session = 's1') =>
      ({
        id: `D${session}${seq}`, webhookId: 'H1', sessionKey: session, attemptCount: 0, claimToken: 't', url: 'http://127.0.0.1:9/hook', secrets: ['whsec_x'],
        event: { id: `E${session}${seq}`, orgId: 'o', sessionId: session, type: 'message.received', data: '{}', occurredAt: 1, recordedAt: 1, sequence: seq, position: seq },
      }) as DeliveryJob;
    const ok = { statusCode: 200, latencyMs: 1, error: null, body: '', retryAfterSec: null };
    const boom = { ...ok, statusCode: 500 };

    /** A worker on mocked claims and writes whose HTTP client answers from `answers` by event id. */
    function running(claims: DeliveryJob[][], answers: Record<string, typeof ok> = {}) {
      const claim = jest.fn();
      for (const c of claims) claim.mockResolvedValueOnce(c);
      claim.mockResolvedValue([]);
      const record = jest.fn().mockResolvedValue([]);
      const repo = { claim, record } as unknown as WebhooksRepository;
      const w = new WebhookDeliveryWorker(repo, { publish: jest.fn(), envelopeJson: () => '{}' } as unknown as EventsService, config, new GatewayMetrics());
      const sent: string[] = [];
      jest.spyOn(w['client'], 'post').mockImplementation(async (_url, headers) => {
        sent.push(headers['webhook-id']);
        return answers[headers['webhook-id']] ?? ok;
      });
      const written = () => ({
        outcomes: record.mock.calls.flatMap((c) => (c[0] as DeliveryOutcome[]).map((o) => `${o.job.id}:${o.result}`)),
        released: record.mock.calls.flatMap((c) => ((c[2] ?? []) as DeliveryJob[]).map((j) => j.id)),
      });
      return { w, claim, record, sent, written };
    }
    const settle = async (w: WebhookDeliveryWorker) => {
      for (let i = 0; i < 50 && (w['inFlight']() > 0 || w['pumping'] || w['flushing']); i++) await new Promise((r) => setTimeout(r, 5));
    };

    it('sends a claimed run back to back, in order, with one claim for all of it', async () => {
      const run = [1, 2, 3, 4].map((n) => job(n));
      const { w, claim, sent, written } = running([run]);
      w.wake(true);
      await settle(w);
      expect(sent).toEqual(['Es11', 'Es12', 'Es13', 'Es14']);
      expect(claim.mock.calls[0].slice(4)).toEqual([RUN_LENGTH, 0]);
      expect(written().outcomes).toEqual(['Ds11:delivered', 'Ds12:delivered', 'Ds13:delivered', 'Ds14:delivered']);
      expect(written().released).toEqual([]);
      await w.onApplicationShutdown();
    });

    it('takes what a publish claimed while a claim was out in after that claim: the queue keeps its order', async () => {
      const { w, claim, sent, written } = running([]);
      w['started'] = true;
      // The claim reads deliveries 1 and 2 of the queue, and comes back only when released.
      let answer!: (jobs: DeliveryJob[]) => void;
      claim.mockImplementationOnce(() => new Promise<DeliveryJob[]>((resolve) => (answer = resolve)));
      w.wake(true);
      for (let i = 0; i < 50 && claim.mock.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      // Meanwhile a publish commits delivery 3 of the same queue, claimed for this worker.
      const offer = w.offer();
      w.published(offer, { created: 1, claimed: [job(3)] } as never);
      await new Promise((r) => setTimeout(r, 20));
      expect(sent).toEqual([]);
      answer([job(1), job(2)]);
      await settle(w);
      expect(sent).toEqual(['Es11', 'Es12', 'Es13']);
      expect(written().outcomes).toEqual(['Ds11:delivered', 'Ds12:delivered', 'Ds13:delivered']);
      expect(w['offers'].size).toBe(0);
      await w.onApplicationShutdown();
    });

    it('stops a run at a failure and hands back the rest unsent, and what a later claim brings for that queue too', async () => {
      const run = [1, 2, 3, 4].map((n) => job(n));
      const other = [1, 2].map((n) => job(n, 's2'));
      const { w, record, sent, written } = running([[...run, ...other], [job(5)]], { Es12: boom });
      // Writes wait until released, so that the next claim comes back before the failure is written.
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      record.mockImplementation(async () => {
        await gate;
        return [];
      });
      w.wake(true);
      for (let i = 0; i < 50 && sent.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
      // A claim that read the queue before the failure was written still brings #5 of it.
      w.wake(true);
      for (let i = 0; i < 50 && w['pumping']; i++) await new Promise((r) => setTimeout(r, 5));
      open();
      await settle(w);
      expect(sent.filter((id) => id.startsWith('Es1'))).toEqual(['Es11', 'Es12']);
      expect(sent.filter((id) => id.startsWith('Es2'))).toEqual(['Es21', 'Es22']);
      expect(written().outcomes).toEqual(expect.arrayContaining(['Ds11:delivered', 'Ds12:retry', 'Ds21:delivered', 'Ds22:delivered']));
      expect(written().outcomes).toHaveLength(4);
      expect(written().released.sort()).toEqual(['Ds13', 'Ds14', 'Ds15']);
      await w.onApplicationShutdown();
    });
  });
});
