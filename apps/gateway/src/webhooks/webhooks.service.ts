import { Injectable, type OnModuleInit } from '@nestjs/common';
import type {
  ListResult,
  WebhookCreateDto,
  WebhookCreatedDto,
  WebhookDeliveryDto,
  WebhookResponseDto,
  WebhookSecretDto,
  WebhookUpdateDto,
} from '@wa/contracts';
import { AddressPolicy, AppError, newId } from '@wa/domain';
import { GatewayConfig } from '../config/gateway.config';
import { EventsService } from '../events/events.service';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { generateWebhookSecret } from './webhook-signature';
import { WebhooksRepository, type DeliveryRecord, type WebhookRecord } from './webhooks.repository';

const SECRET_OVERLAP_MS = 24 * 3_600_000;
const DEFAULT_PAGE = 50;

// One message for missing and foreign alike, so another org's ids cannot be probed.
const webhookNotFound = (): AppError => new AppError('not_found', 'webhook not found');
const deliveryNotFound = (): AppError => new AppError('not_found', 'delivery not found');

@Injectable()
export class WebhooksService implements OnModuleInit {
  private readonly policy: AddressPolicy;

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly events: EventsService,
    config: GatewayConfig,
    private readonly worker: WebhookDeliveryWorker,
  ) {
    this.policy = new AddressPolicy(config.webhooks.allowPrivateNetworks, config.webhooks.allowedCidrs);
  }

  onModuleInit(): void {
    // The worker of this process is offered the new deliveries of the queues it holds, claimed in
    // the publishing transaction, and is told of the rest once it commits.
    this.events.registerFanOut(async (tx, events, options) => {
      const offer = this.worker.offer();
      try {
        const result = await this.repo.createDeliveries(tx, events, options.onlyWebhookId, Date.now(), offer);
        return (committed) => this.worker.published(offer, committed ? result : undefined);
      } catch (err) {
        this.worker.published(offer, undefined);
        throw err;
      }
    });
  }

  async create(orgId: string, dto: WebhookCreateDto): Promise<WebhookCreatedDto> {
    const now = Date.now();
    const record: WebhookRecord = {
      id: newId(),
      orgId,
      url: this.checkedUrl(dto.url),
      events: this.normaliseEvents(dto.events),
      sessionIds: [...new Set(dto.sessionIds ?? [])],
      description: dto.description ?? '',
      secret: generateWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      status: 'enabled',
      disabledReason: null,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.insert(record);
    return { ...this.toResponse(record), secret: record.secret };
  }

  async list(orgId: string): Promise<ListResult<WebhookResponseDto>> {
    return { data: (await this.repo.listForOrg(orgId)).map((w) => this.toResponse(w)), nextCursor: '' };
  }

  async get(orgId: string, id: string): Promise<WebhookResponseDto> {
    return this.toResponse(await this.load(orgId, id));
  }

  async update(orgId: string, id: string, dto: WebhookUpdateDto): Promise<WebhookResponseDto> {
    const current = await this.load(orgId, id);
    const next = {
      url: dto.url !== undefined ? this.checkedUrl(dto.url) : current.url,
      events: dto.events !== undefined ? this.normaliseEvents(dto.events) : current.events,
      sessionIds: dto.sessionIds !== undefined ? [...new Set(dto.sessionIds)] : current.sessionIds,
      description: dto.description ?? current.description,
      updatedAt: Date.now(),
    };
    await this.repo.update(orgId, id, next);
    return this.toResponse({ ...current, ...next });
  }

  async remove(orgId: string, id: string): Promise<void> {
    if (!(await this.repo.delete(orgId, id))) throw webhookNotFound();
  }

  async rotateSecret(orgId: string, id: string): Promise<WebhookSecretDto> {
    const current = await this.load(orgId, id);
    const now = Date.now();
    const secret = generateWebhookSecret();
    const previousSecretExpiresAt = now + SECRET_OVERLAP_MS;
    await this.repo.rotateSecret(orgId, id, secret, current.secret, previousSecretExpiresAt, now);
    return { secret, previousSecretExpiresAt };
  }

  async enable(orgId: string, id: string): Promise<WebhookResponseDto> {
    await this.load(orgId, id);
    await this.repo.enable(orgId, id, Date.now());
    return this.toResponse(await this.load(orgId, id));
  }

  /** Publishes a `webhook.ping` that only this endpoint receives. */
  async test(orgId: string, id: string): Promise<WebhookDeliveryDto> {
    await this.load(orgId, id);
    const [event] = await this.events.publish(
      { orgId, sessionId: null, type: 'webhook.ping', data: { webhookId: id }, occurredAt: Date.now() },
      { onlyWebhookId: id },
    );
    const [delivery] = (await this.repo.listDeliveries(orgId, id, 1)).filter((d) => d.eventId === event.id);
    return this.toDeliveryDto(delivery);
  }

  async deliveries(orgId: string, id: string, cursor: string | undefined, limit = DEFAULT_PAGE): Promise<ListResult<WebhookDeliveryDto>> {
    await this.load(orgId, id);
    const rows = await this.repo.listDeliveries(orgId, id, limit + 1, cursor);
    const page = rows.slice(0, limit);
    return { data: page.map((d) => this.toDeliveryDto(d)), nextCursor: rows.length > limit ? page[page.length - 1].id : '' };
  }

  async replay(orgId: string, id: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    await this.load(orgId, id);
    const newDeliveryId = await this.repo.replay(orgId, id, deliveryId, Date.now());
    if (!newDeliveryId) throw deliveryNotFound();
    const replayed = await this.repo.findDelivery(orgId, id, newDeliveryId);
    if (!replayed) throw deliveryNotFound();
    return this.toDeliveryDto(replayed);
  }

  private async load(orgId: string, id: string): Promise<WebhookRecord> {
    const record = await this.repo.findForOrg(orgId, id);
    if (!record) throw webhookNotFound();
    return record;
  }

  private checkedUrl(raw: string): string {
    const problem = this.policy.urlProblem(raw);
    if (problem) throw new AppError('validation_error', problem, { fields: [{ field: 'url', problems: [problem] }] });
    return new URL(raw).href;
  }

  private normaliseEvents(events: string[]): string[] {
    return events.includes('*') ? ['*'] : [...new Set(events)].sort();
  }

  private toResponse(w: WebhookRecord): WebhookResponseDto {
    return {
      id: w.id,
      url: w.url,
      events: w.events,
      sessionIds: w.sessionIds,
      description: w.description,
      status: w.status,
      disabledReason: w.disabledReason,
      disabledAt: w.disabledAt,
      previousSecretExpiresAt: w.previousSecretExpiresAt !== null && w.previousSecretExpiresAt > Date.now() ? w.previousSecretExpiresAt : null,
      createdAt: w.createdAt,
      updatedAt: w.updatedAt,
    };
  }

  private toDeliveryDto(d: DeliveryRecord): WebhookDeliveryDto {
    return {
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      sessionId: d.sessionId,
      sequence: d.sequence,
      status: d.status,
      attemptCount: d.attempts.length,
      nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
      createdAt: d.createdAt,
      deliveredAt: d.deliveredAt,
      attempts: d.attempts,
    };
  }
}
