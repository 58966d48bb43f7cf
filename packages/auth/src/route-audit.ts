import { RequestMethod, type INestApplicationContext } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { routeAuthRequirement, type AuthRequirement } from './auth.decorators';

export interface RouteAuthEntry {
  readonly controller: string;
  readonly handler: string;
  readonly requirement: AuthRequirement | undefined;
}

/** A route open to anyone: its method and its path as the controller declares it (no global prefix). */
export interface PublicRoute {
  readonly method: string;
  readonly path: string;
}

interface RouteHandler {
  readonly controller: Function;
  readonly name: string;
  readonly handler: Function;
}

function* routeHandlers(app: INestApplicationContext): Generator<RouteHandler> {
  for (const moduleRef of app.get(ModulesContainer).values()) {
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype as (abstract new (...args: never[]) => object) | undefined;
      if (!controller || !Reflect.hasMetadata(PATH_METADATA, controller)) continue;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (name === 'constructor' || typeof handler !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, handler)) continue;
        yield { controller, name, handler };
      }
    }
  }
}

/**
 * Every HTTP route handler of every controller in the app with the requirement it declares,
 * so that a test can fail on any route that declares none (the guard would refuse it at run
 * time; the test says so before anyone calls it).
 */
export function listRouteAuthRequirements(app: INestApplicationContext): RouteAuthEntry[] {
  return [...routeHandlers(app)].map(({ controller, name, handler }) => ({
    controller: controller.name,
    handler: name,
    requirement: routeAuthRequirement(handler, controller),
  }));
}

const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [String(value ?? '')]);

/** `a`, `/b/`, `` -> `/a/b`: the normalized join Nest's router applies to path segments. */
export function joinRoutePath(...segments: string[]): string {
  const joined = segments.flatMap((s) => s.split('/')).filter(Boolean).join('/');
  return `/${joined}`;
}

/**
 * The routes that declare `@Public()`, so that an app authenticating before Nest routes (the
 * gateway, in a Fastify hook) can leave exactly those alone. A route missing here is
 * authenticated anyway: the list can only err on the closed side.
 */
export function listPublicRoutes(app: INestApplicationContext): PublicRoute[] {
  const out: PublicRoute[] = [];
  for (const { controller, handler } of routeHandlers(app)) {
    if (routeAuthRequirement(handler, controller) !== 'public') continue;
    const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
    for (const base of asList(Reflect.getMetadata(PATH_METADATA, controller))) {
      for (const own of asList(Reflect.getMetadata(PATH_METADATA, handler))) out.push({ method, path: joinRoutePath(base, own) });
    }
  }
  return out;
}
