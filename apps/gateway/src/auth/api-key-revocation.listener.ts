import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeyAuthenticator } from '@wa/auth';
import { ApiKeyRevocations } from '../api-keys/api-key-revocations';

/**
 * Makes this gateway forget keys revoked on any other (or with the CLI) as soon as the
 * broadcast arrives, and every cached key when the broadcast may have missed some. Subscribed
 * before the gateway serves its first request.
 */
@Injectable()
export class ApiKeyRevocationListener implements OnApplicationBootstrap {
  private readonly logger = new Logger(ApiKeyRevocationListener.name);

  constructor(
    private readonly revocations: ApiKeyRevocations,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return this.revocations.listen({
      revoked: (id) => {
        this.authenticator.invalidate(id);
        // The key's id only (it is public, like a listing shows it): an operator sees where and when a revocation took effect.
        this.logger.log({ msg: 'API key revocation received', keyId: id });
      },
      mayHaveMissed: () => this.authenticator.invalidateAll(),
    });
  }
}
