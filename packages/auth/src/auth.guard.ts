import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '@wa/domain';
import { AUTH_REQUIREMENT, setPrincipal, type AuthRequirement } from './auth.decorators';
import { AuthRateLimiter } from './auth-rate.limiter';
import { BearerAuthenticator } from './bearer.authenticator';
import { hasCapability } from './principal';

interface HttpRequestLike {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
}

/**
 * The global guard: reads the requirement a route declares with `@Public()`,
 * `@RequireAuthenticated()` or `@RequireCapability()`, authenticates the bearer token and
 * checks the capability. A route that declares nothing is refused for everyone, so that a
 * forgotten decorator fails closed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(BearerAuthenticator) private readonly authenticator: BearerAuthenticator,
    @Inject(AuthRateLimiter) private readonly limiter: AuthRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Microservice handlers are not reached with bearer tokens; only the HTTP API is guarded here.
    if (context.getType() !== 'http') return true;
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (requirement === 'public') return true;
    if (requirement === undefined) throw new AppError('forbidden', 'this route declares no access requirement');

    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    const address = request.ip ?? request.socket?.remoteAddress ?? 'unknown';
    this.limiter.assertMayAuthenticate(address);
    const header = request.headers.authorization;
    let principal;
    try {
      principal = await this.authenticator.authenticateHeader(Array.isArray(header) ? header[0] : header);
    } catch (err) {
      // Only the caller's own failures count; an unreachable JWKS (503) is not theirs.
      if (err instanceof AppError && err.code === 'unauthorized') this.limiter.recordFailedAuth(address);
      throw err;
    }
    setPrincipal(request, principal);
    this.limiter.consume(principal);
    if (requirement !== 'authenticated' && !hasCapability(principal, requirement)) {
      throw new AppError('forbidden', `this action needs the "${requirement}" capability`, { capability: requirement });
    }
    return true;
  }
}
