import type { DocumentBuilder } from '@nestjs/swagger';

/** Names of the two security schemes every protected operation lists (either one suffices). */
export const SECURITY_SCHEMES = { jwt: 'bearer', apiKey: 'apiKey' } as const;

/**
 * Declares both schemes on the document. Both travel as `Authorization: Bearer <token>`;
 * they are separate schemes so that the docs can say which token is which.
 */
export function addAuthSecuritySchemes(builder: DocumentBuilder): DocumentBuilder {
  return builder
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A login JWT minted by the frontend (RS256/ES256, verified against its JWKS); org and role come from its claims.',
      },
      SECURITY_SCHEMES.jwt,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'wag_<id>_<secret>',
        description: 'An API key (`wag_<id>_<secret>`, from `POST /api/v1/api-keys`) for scripts and services, sent as `Authorization: Bearer <key>`; carries fixed capabilities.',
      },
      SECURITY_SCHEMES.apiKey,
    );
}
