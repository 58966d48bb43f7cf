import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * The content of a message as `GET .../messages/{mid}` and the `message.received` event describe
 * it: one shape per `type`, decoded by the runner from the same raw message. Only the fields a
 * message has are present. Media bytes, media keys and WhatsApp CDN addresses are never included.
 */

/** One example per message type, shown in the schema descriptions. */
export const MESSAGE_CONTENT_EXAMPLES: Record<string, Record<string, unknown>> = {
  text: { text: 'See you @491709876543', quotedMessageId: '3EB0C431C26A1916E07A', mentions: ['491709876543@s.whatsapp.net'] },
  'text (link)': { text: 'https://example.com', linkPreview: { matchedText: 'https://example.com', title: 'Example', description: 'An example page' } },
  image: { mimetype: 'image/jpeg', fileLength: 48213, fileSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', caption: 'Look', width: 1280, height: 960 },
  video: { mimetype: 'video/mp4', fileLength: 1048576, fileSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', seconds: 12, width: 640, height: 360, gifPlayback: true },
  audio: { mimetype: 'audio/ogg; codecs=opus', fileLength: 8410, fileSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', seconds: 7, voiceNote: true },
  document: { mimetype: 'application/pdf', fileLength: 120334, fileSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', fileName: 'invoice.pdf', caption: 'March', pageCount: 2 },
  sticker: { mimetype: 'image/webp', fileLength: 9012, fileSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', width: 512, height: 512, isAnimated: true },
  location: { latitude: 48.137, longitude: 11.575, name: 'Munich', address: 'Marienplatz 1', url: 'https://maps.example/munich' },
  'location (live)': { latitude: 48.137, longitude: 11.575, live: true, accuracy: 10, speed: 1.5, caption: 'On my way', sequence: 4 },
  contacts: { displayName: '2 contacts', contacts: [{ displayName: 'Jane', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nTEL:+491701234567\nEND:VCARD' }, { displayName: 'John', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:John\nEND:VCARD' }] },
  poll: { name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 },
};

/** Only in `GET .../messages/{mid}` of messages this session sent that change another one. */
export const STORED_CHANGE_EXAMPLES: Record<string, Record<string, unknown>> = {
  reaction: { emoji: '👍', targetMessageId: '3EB0C431C26A1916E07A' },
  edit: { targetMessageId: '3EB0C431C26A1916E07A', text: 'fixed typo' },
  revoke: { targetMessageId: '3EB0C431C26A1916E07A' },
  vote: { pollMessageId: '3EB0C431C26A1916E07A' },
};

const list = (examples: Record<string, Record<string, unknown>>): string =>
  Object.entries(examples).map(([type, example]) => `- \`${type}\`: \`${JSON.stringify(example).replace(/\n/g, '\\n')}\``).join('\n');

const COMMON =
  'Any type may also carry `quotedMessageId` (a reply), `mentions`, `isForwarded`/`forwardingScore` and `expiration` (disappearing-message timer, seconds).';

export const STORED_CONTENT_DESCRIPTION = `The decoded content; its fields depend on \`type\` (the same shape as in the \`message.received\` event). ${COMMON} Examples per type:\n${list(MESSAGE_CONTENT_EXAMPLES)}\n\nMessages this session sent that change another message:\n${list(STORED_CHANGE_EXAMPLES)}`;

export const RECEIVED_CONTENT_DESCRIPTION = `The message content, the same shape per \`type\` as \`GET /api/v1/sessions/{id}/messages/{mid}\` answers, plus \`pushName\` (the sender's display name) and, kept from earlier versions, \`text\` (the text, caption, poll question, location or card name) and \`pollOptions\`. ${COMMON} Examples per type (without \`pushName\`):\n${list(MESSAGE_CONTENT_EXAMPLES)}`;

export const MESSAGE_TYPE_DESCRIPTION =
  'Kind of message: `text`, `image`, `video`, `audio`, `document`, `sticker`, `location`, `contacts`, `poll`, or `unknown` (content WhatsApp sent that the gateway does not describe).';

export class ContactCardDto {
  @ApiProperty({ example: 'Jane' })
  displayName!: string;

  @ApiProperty({ example: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nTEL:+491701234567\nEND:VCARD', description: 'The vCard as sent.' })
  vcard!: string;
}

export class LinkPreviewDto {
  @ApiPropertyOptional({ example: 'https://example.com', description: 'The link in the text the preview is for.' })
  matchedText?: string;

  @ApiPropertyOptional({ example: 'Example' })
  title?: string;

  @ApiPropertyOptional({ example: 'An example page' })
  description?: string;
}

export class MessageContentDto {
  // text
  @ApiPropertyOptional({ example: 'Hello', description: '`text`: the text.' })
  text?: string;

  @ApiPropertyOptional({ type: LinkPreviewDto, description: '`text`: the link preview WhatsApp attached.' })
  linkPreview?: LinkPreviewDto;

  // context, any type
  @ApiPropertyOptional({ example: '3EB0C431C26A1916E07A', description: 'Any type: the message this one replies to.' })
  quotedMessageId?: string;

  @ApiPropertyOptional({ type: [String], example: ['491709876543@s.whatsapp.net'], description: 'Any type: the JIDs mentioned.' })
  mentions?: string[];

  @ApiPropertyOptional({ example: true, description: 'Any type: the message was forwarded.' })
  isForwarded?: boolean;

  @ApiPropertyOptional({ example: 1, description: 'Any type: how many times it was forwarded (WhatsApp shows "forwarded many times" from 5).' })
  forwardingScore?: number;

  @ApiPropertyOptional({ example: 604800, description: 'Any type: disappearing-message timer of the chat, in seconds.' })
  expiration?: number;

  // media
  @ApiPropertyOptional({ example: 'image/jpeg', description: 'Media (`image`, `video`, `audio`, `document`, `sticker`).' })
  mimetype?: string;

  @ApiPropertyOptional({ example: 48213, description: 'Media: size in bytes.' })
  fileLength?: number;

  @ApiPropertyOptional({ example: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=', description: 'Media: SHA-256 of the plaintext file, base64.' })
  fileSha256?: string;

  @ApiPropertyOptional({ example: 'Look', description: '`image`, `video`, `document`: the caption; live `location`: its caption.' })
  caption?: string;

  @ApiPropertyOptional({ example: 'invoice.pdf', description: '`document`: the file name.' })
  fileName?: string;

  @ApiPropertyOptional({ example: 2, description: '`document`: number of pages, when WhatsApp sent it.' })
  pageCount?: number;

  @ApiPropertyOptional({ example: 1280, description: '`image`, `video`, `sticker`: width in pixels.' })
  width?: number;

  @ApiPropertyOptional({ example: 960, description: '`image`, `video`, `sticker`: height in pixels.' })
  height?: number;

  @ApiPropertyOptional({ example: 12, description: '`video`, `audio`: duration in seconds.' })
  seconds?: number;

  @ApiPropertyOptional({ example: true, description: '`audio`: a voice note (push-to-talk).' })
  voiceNote?: boolean;

  @ApiPropertyOptional({ example: true, description: '`video`: shown as a GIF.' })
  gifPlayback?: boolean;

  @ApiPropertyOptional({ example: true, description: '`video`: a round video note.' })
  videoNote?: boolean;

  @ApiPropertyOptional({ example: true, description: '`sticker`: animated.' })
  isAnimated?: boolean;

  @ApiPropertyOptional({ example: true, description: 'Media: sent as view once.' })
  viewOnce?: boolean;

  // location
  @ApiPropertyOptional({ example: 48.137, description: '`location`: degrees latitude.' })
  latitude?: number;

  @ApiPropertyOptional({ example: 11.575, description: '`location`: degrees longitude.' })
  longitude?: number;

  @ApiPropertyOptional({ example: 'Munich', description: '`location`: the place name; `poll`: the question.' })
  name?: string;

  @ApiPropertyOptional({ example: 'Marienplatz 1', description: '`location`: the address.' })
  address?: string;

  @ApiPropertyOptional({ example: 'https://maps.example/munich', description: '`location`: a link to the place.' })
  url?: string;

  @ApiPropertyOptional({ example: 'Meet here', description: '`location`: a comment.' })
  comment?: string;

  @ApiPropertyOptional({ example: true, description: '`location`: a live location (then also `accuracy`, `speed`, `heading`, `caption`, `sequence`).' })
  live?: boolean;

  @ApiPropertyOptional({ example: 10, description: 'Live `location`: accuracy in metres.' })
  accuracy?: number;

  @ApiPropertyOptional({ example: 1.5, description: 'Live `location`: speed in m/s.' })
  speed?: number;

  @ApiPropertyOptional({ example: 90, description: 'Live `location`: degrees clockwise from magnetic north.' })
  heading?: number;

  @ApiPropertyOptional({ example: 4, description: 'Live `location`: sequence number of this update.' })
  sequence?: number;

  // contacts
  @ApiPropertyOptional({ example: '2 contacts', description: '`contacts`: the summary line WhatsApp shows.' })
  displayName?: string;

  @ApiPropertyOptional({ type: [ContactCardDto], description: '`contacts`: every card, with its vCard.' })
  contacts?: ContactCardDto[];

  // poll
  @ApiPropertyOptional({ type: [String], example: ['Pizza', 'Sushi'], description: '`poll`: the options.' })
  options?: string[];

  @ApiPropertyOptional({ example: 1, description: '`poll`: 1 = single choice, 0 = any number.' })
  selectableCount?: number;
}

export class StoredMessageContentDto extends MessageContentDto {
  @ApiPropertyOptional({ example: '👍', description: '`reaction` (sent by this session): the emoji; empty when it removed the reaction.' })
  emoji?: string;

  @ApiPropertyOptional({ example: '3EB0C431C26A1916E07A', description: '`reaction`, `edit`, `revoke` (sent by this session): the message changed.' })
  targetMessageId?: string;

  @ApiPropertyOptional({ example: '3EB0C431C26A1916E07A', description: '`vote` (sent by this session): the poll voted on.' })
  pollMessageId?: string;
}

export class ReceivedMessageContentDto extends MessageContentDto {
  @ApiPropertyOptional({ example: 'Bob', description: "The sender's display name." })
  pushName?: string;

  @ApiPropertyOptional({ type: [String], example: ['Pizza', 'Sushi'], description: '`poll`: the options (the same as `options`).' })
  pollOptions?: string[];
}
