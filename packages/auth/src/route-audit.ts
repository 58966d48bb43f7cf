import type { INestApplicationContext } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { routeAuthRequirement, type AuthRequirement } from './auth.decorators';

export interface RouteAuthEntry {
  readonly controller: string;
  readonly handler: string;
  readonly requirement: AuthRequirement | undefined;
}

/**
 * Every HTTP route handler of every controller in the app with the requirement it declares,
 * so that a test can fail on any route that declares none (the guard would refuse it at run
 * time; the test says so before anyone calls it).
 */
export function listRouteAuthRequirements(app: INestApplicationContext): RouteAuthEntry[] {
  const entries: RouteAuthEntry[] = [];
  for (const moduleRef of app.get(ModulesContainer).values()) {
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype as (abstract new (...args: never[]) => object) | undefined;
      if (!controller || !Reflect.hasMetadata(PATH_METADATA, controller)) continue;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (name === 'constructor' || typeof handler !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, handler)) continue;
        entries.push({ controller: controller.name, handler: name, requirement: routeAuthRequirement(handler, controller) });
      }
    }
  }
  return entries;
}
