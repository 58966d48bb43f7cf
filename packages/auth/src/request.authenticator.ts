import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@wa/domain';
import { setPrincipal } from './auth.decorators';
import { AuthRateLimiter } from './auth-rate.limiter';
import { BearerAuthenticator } from './bearer.authenticator';
import type { Principal } from './principal';

/** What authentication reads from a request: Fastify's request and Node's both fit. */
export interface HttpRequestLike {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
}

/**
 * Authenticates one HTTP request: the failed-auth limit of its address first (before any
 * lookup is spent), then the bearer token, then the per-key and per-org limits of the caller.
 * The principal is attached to the request. It needs nothing but the headers, so the gateway
 * runs it before a single body byte is read.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    @Inject(BearerAuthenticator) private readonly authenticator: BearerAuthenticator,
    @Inject(AuthRateLimiter) private readonly limiter: AuthRateLimiter,
  ) {}

  async authenticate(request: HttpRequestLike): Promise<Principal> {
    const address = request.ip ?? request.socket?.remoteAddress ?? 'unknown';
    this.limiter.assertMayAuthenticate(address);
    const header = request.headers.authorization;
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticateHeader(Array.isArray(header) ? header[0] : header);
    } catch (err) {
      // Only the caller's own failures count; an unreachable JWKS (503) is not theirs. Awaited, so
      // that the address's next attempt already meets the shared bucket's answer.
      if (err instanceof AppError && err.code === 'unauthorized') await this.limiter.recordFailedAuth(address);
      throw err;
    }
    setPrincipal(request, principal);
    await this.limiter.consume(principal);
    return principal;
  }
}
