import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { addAuthSecuritySchemes } from '@wa/auth';
import { REQUEST_COMPONENTS } from '../http/request-schema';

export const API_TITLE = 'WhatsApp Gateway API';
export const API_VERSION = '1.0.0';

/**
 * Builds the OpenAPI document from the running app's routes. `operationId` is the handler's
 * method name, so ids stay stable across refactors that do not rename handlers.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle(API_TITLE)
    .setVersion(API_VERSION)
    .setDescription(
      'Link WhatsApp accounts and drive them over REST. Every call takes `Authorization: Bearer <token>`: ' +
        'a login JWT minted by your frontend (verified against its JWKS) or an API key. ' +
        'Errors always use `{"error": {"code", "message", "details"}}`.',
    )
  const document = SwaggerModule.createDocument(app, addAuthSecuritySchemes(builder).build(), {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
  });
  // Request schemas come from the contracts' JSON Schemas, the same objects the validators were compiled from.
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...(REQUEST_COMPONENTS as NonNullable<OpenAPIObject['components']>['schemas']) } };
  return document;
}

/** JSON with object keys sorted at every level, so the committed document diffs cleanly. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
