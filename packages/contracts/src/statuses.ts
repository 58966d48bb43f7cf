import { ApiProperty } from '@nestjs/swagger';
import { Jid, mediaSourceFields } from './message.dto';
import type { OutgoingContent } from './messaging-rpc';
import type { SessionRef } from './rpc';
import { Discriminated, named, Type, type Static } from './schema';
import { STATUS_JID } from './rpc-names';
export { STATUS_JID };

const audience = Type.Optional(
  Type.Array(Jid(), {
    minItems: 1,
    maxItems: 1024,
    uniqueItems: true,
    example: ['491709876543@s.whatsapp.net'],
    description: 'Who may see it; every contact the session knows when absent.',
  }),
);

export const TextStatusPost = named(
  'TextStatusPost',
  Type.Object(
    {
      type: Type.Literal('text'),
      text: Type.String({ minLength: 1, maxLength: 700, example: 'Closed today, back on Monday' }),
      backgroundColor: Type.Optional(Type.String({ pattern: '^#[0-9A-Fa-f]{6}$', example: '#25D366', description: 'The background colour, `#RRGGBB`.' })),
      font: Type.Optional(Type.Integer({ minimum: 0, maximum: 9, example: 1, description: "WhatsApp's status font index." })),
      contacts: audience,
    },
    { additionalProperties: false },
  ),
);

const mediaStatus = (type: 'image' | 'video') =>
  Type.Object(
    {
      ...mediaSourceFields,
      type: Type.Literal(type),
      caption: Type.Optional(Type.String({ maxLength: 700, example: 'New in store' })),
      contacts: audience,
    },
    { additionalProperties: false },
  );
export const ImageStatusPost = named('ImageStatusPost', mediaStatus('image'));
export const VideoStatusPost = named('VideoStatusPost', mediaStatus('video'));

export const StatusPost = named('StatusPost', Discriminated('type', [TextStatusPost, ImageStatusPost, VideoStatusPost]));
export type StatusPostDto = Static<typeof StatusPost>;

export interface StatusPostPayload extends SessionRef {
  /** A text status. */
  text?: string;
  backgroundColor?: string;
  font?: number;
  /** An image or video status (its media from a URL or inline, as in message sends). */
  media?: OutgoingContent;
  contacts?: string[];
}

export interface StatusPostResult {
  waMessageId: string;
  /** How many contacts it was sent to. */
  recipients: number;
  timestamp: number;
}

export class StatusPostResultDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  waMessageId!: string;

  @ApiProperty({ example: 12, description: 'How many contacts it was sent to.' })
  recipients!: number;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms.' })
  timestamp!: number;
}
