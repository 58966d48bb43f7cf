import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '@wa/domain';
import { AUTH_REQUIREMENT, principalOf, type AuthRequirement } from './auth.decorators';
import { hasCapability } from './principal';
import { RequestAuthenticator, type HttpRequestLike } from './request.authenticator';

/**
 * The global guard: reads the requirement a route declares with `@Public()`,
 * `@RequireAuthenticated()` or `@RequireCapability()` and checks the caller against it. A
 * route that declares nothing is refused for everyone, so that a forgotten decorator fails
 * closed. The caller is normally authenticated before the guard runs (the gateway does it in
 * a Fastify `onRequest` hook, before the body is read); an app without such a hook gets the
 * same authentication here.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(RequestAuthenticator) private readonly requests: RequestAuthenticator,
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
    const principal = principalOf(request) ?? (await this.requests.authenticate(request));
    if (requirement !== 'authenticated' && !hasCapability(principal, requirement)) {
      throw new AppError('forbidden', `this action needs the "${requirement}" capability`, { capability: requirement });
    }
    return true;
  }
}
