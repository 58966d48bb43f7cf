import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { ApiAuthenticatedErrors, ApiInternalErrorResponse } from '@wa/contracts';
import { AppError, type Capability } from '@wa/domain';
import { SECURITY_SCHEMES } from './auth.openapi';
import type { Principal } from './principal';

/** What a route needs: nothing (`public`), any principal of the org (`authenticated`), or a capability. */
export type AuthRequirement = 'public' | 'authenticated' | Capability;

export const AUTH_REQUIREMENT = 'wa:auth-requirement';

/**
 * The single place that both enforces a requirement (metadata read by `AuthGuard`) and
 * publishes it (security schemes, `x-capability`, documented 401/403/429/500/503), so the OpenAPI
 * document cannot drift from what the guard does.
 */
function requirement(value: Exclude<AuthRequirement, 'public'>): MethodDecorator & ClassDecorator {
  const decorators = [
    SetMetadata(AUTH_REQUIREMENT, value),
    ApiExtension('x-capability', value),
    ApiBearerAuth(SECURITY_SCHEMES.jwt),
    ApiBearerAuth(SECURITY_SCHEMES.apiKey),
    ApiAuthenticatedErrors(value === 'authenticated' ? undefined : value),
  ];
  return applyDecorators(...decorators);
}

/** The route needs the `send` or `manage` capability; without it the caller gets 403 `forbidden`. */
export const RequireCapability = (capability: Capability): MethodDecorator & ClassDecorator => requirement(capability);

/** The route needs an authenticated principal of any capability (reads). */
export const RequireAuthenticated = (): MethodDecorator & ClassDecorator => requirement('authenticated');

/** The route is deliberately open to anyone (health, docs); saying so is required, not implied. */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(AUTH_REQUIREMENT, 'public'), ApiExtension('x-capability', 'public'), ApiInternalErrorResponse());

/**
 * The requirement a route declares, the method's own winning over its controller's, exactly
 * as `AuthGuard` reads it; undefined when the route declares none.
 */
export function routeAuthRequirement(handler: Function, controller: Function): AuthRequirement | undefined {
  return (Reflect.getMetadata(AUTH_REQUIREMENT, handler) ?? Reflect.getMetadata(AUTH_REQUIREMENT, controller)) as
    | AuthRequirement
    | undefined;
}

const principals = new WeakMap<object, Principal>();

/** Attaches the principal to the request without changing the request object's shape. */
export function setPrincipal(request: object, principal: Principal): void {
  principals.set(request, principal);
}

export function principalOf(request: object): Principal | undefined {
  return principals.get(request);
}

/** The authenticated caller; using it on a public route is a programming error and answers 401. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = principalOf(ctx.switchToHttp().getRequest<object>());
  if (!principal) throw new AppError('unauthorized', 'this route has no authenticated caller');
  return principal;
});
