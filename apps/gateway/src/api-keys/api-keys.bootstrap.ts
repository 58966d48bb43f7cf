import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway.config';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

/**
 * The bootstrap key always has this id, so that replicas starting at once over an empty table
 * race on the primary key: exactly one insert wins and only the winner prints a key.
 */
export const BOOTSTRAP_API_KEY_ID = '00000000000000000000000000';

export const BOOTSTRAP_LOG_MARKER = '*** BOOTSTRAP API KEY ***';

/**
 * A new installation has no identity provider yet and no key to call the API with. On the very
 * first start (empty api_keys table) with BOOTSTRAP_ORG set, this creates one `send,manage` key
 * for that org and writes it to the log: the only place a key is ever logged, and only once.
 */
@Injectable()
export class ApiKeysBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('api-keys');

  constructor(
    private readonly config: GatewayConfig,
    private readonly repository: ApiKeysRepository,
    private readonly service: ApiKeysService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const orgId = this.config.bootstrapOrg;
    if (!orgId || !(await this.repository.isEmpty())) return;
    let token: string;
    try {
      ({ token } = await this.service.issue(orgId, {
        id: BOOTSTRAP_API_KEY_ID,
        name: 'bootstrap',
        capabilities: ['send', 'manage'],
        expiresAt: null,
        createdBy: 'bootstrap',
      }));
    } catch (err) {
      // Another replica inserted it a moment earlier and printed it; this one stays quiet.
      if (await this.repository.findById(BOOTSTRAP_API_KEY_ID)) return;
      throw err;
    }
    this.logger.warn(
      `${BOOTSTRAP_LOG_MARKER} org "${orgId}", capabilities send,manage (shown once, store it now, then revoke it once you have your own keys): ${token}`,
    );
  }
}
