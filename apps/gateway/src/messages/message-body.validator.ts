import { JID_PATTERN, POLL_MAX_OPTIONS, SEND_MESSAGE_TYPES, type MessageReactionDto, type MessageSendDto, type PollVoteDto } from '@wa/contracts';
import { AppError } from '@wa/domain';
import type { FieldProblem } from '../http/error-response';

/**
 * Validators for the hot bodies (send, reaction, vote), composed once at load time from small
 * rules instead of class-validator's per-request metadata walk (~100 us a request). They
 * answer with the same `validation_error` envelope, per-field details and wording as the
 * global ValidationPipe, unknown properties included.
 */
type Check = (value: unknown, field: string, out: FieldProblem[]) => void;

interface Rule {
  check: Check;
  optional?: boolean;
}

const fail = (out: FieldProblem[], field: string, problem: string): void => {
  const existing = out.find((p) => p.field === field);
  if (existing) existing.problems.push(problem);
  else out.push({ field, problems: [problem] });
};

const leaf = (field: string): string => field.slice(field.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');

function str(opts: { min?: number; max: number; pattern?: RegExp; patternMessage?: (name: string) => string; optional?: boolean }): Rule {
  const min = opts.min ?? 0;
  return {
    optional: opts.optional,
    check: (v, field, out) => {
      if (typeof v !== 'string') return fail(out, field, `${leaf(field)} must be a string`);
      if (v.length < min || v.length > opts.max) fail(out, field, `${leaf(field)} must be between ${min} and ${opts.max} characters long`);
      else if (opts.pattern && !opts.pattern.test(v)) fail(out, field, opts.patternMessage ? opts.patternMessage(leaf(field)) : `${leaf(field)} has an invalid format`);
    },
  };
}

const jid = (optional = false): Rule =>
  str({ max: 180, pattern: JID_PATTERN, patternMessage: (name) => `${name} must be a JID like 491701234567@s.whatsapp.net, 123...@lid or 123...@g.us`, optional });

function num(opts: { min: number; max: number; integer?: boolean }): Rule {
  return {
    check: (v, field, out) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(out, field, `${leaf(field)} must be a number`);
      if (opts.integer && !Number.isInteger(v)) return fail(out, field, `${leaf(field)} must be an integer number`);
      if (v < opts.min) fail(out, field, `${leaf(field)} must not be less than ${opts.min}`);
      if (v > opts.max) fail(out, field, `${leaf(field)} must not be greater than ${opts.max}`);
    },
  };
}

const bool = (optional = true): Rule => ({
  optional,
  check: (v, field, out) => {
    if (typeof v !== 'boolean') fail(out, field, `${leaf(field)} must be a boolean value`);
  },
});

function arr(item: Rule, opts: { min?: number; max: number; unique?: boolean; optional?: boolean }): Rule {
  const min = opts.min ?? 0;
  return {
    optional: opts.optional,
    check: (v, field, out) => {
      if (!Array.isArray(v)) return fail(out, field, `${leaf(field)} must be an array`);
      if (v.length < min) fail(out, field, `${leaf(field)} must contain at least ${min} elements`);
      if (v.length > opts.max) return fail(out, field, `${leaf(field)} must contain no more than ${opts.max} elements`);
      v.forEach((x, i) => item.check(x, `${field}[${i}]`, out));
      if (opts.unique && new Set(v).size !== v.length) fail(out, field, `All ${leaf(field)}'s elements must be unique`);
    },
  };
}

function obj(shape: Record<string, Rule>, optional = false): Rule {
  const names = Object.keys(shape);
  return {
    optional,
    check: (v, field, out) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(out, field || 'body', `${leaf(field) || 'body'} must be an object`);
      const rec = v as Record<string, unknown>;
      const at = (k: string): string => (field ? `${field}.${k}` : k);
      for (const k of Object.keys(rec)) if (!(k in shape)) fail(out, at(k), `property ${k} should not exist`);
      for (const k of names) {
        const rule = shape[k];
        if (rec[k] === undefined || rec[k] === null) {
          if (!rule.optional) fail(out, at(k), `${k} should not be empty`);
        } else rule.check(rec[k], at(k), out);
      }
    },
  };
}

function invalid(fields: FieldProblem[]): AppError {
  const summary = fields.map((f) => `${f.field}: ${f.problems.join(', ')}`).join('; ');
  return new AppError('validation_error', `invalid request: ${summary}`, { fields });
}

function compile<T>(rule: Rule): (body: unknown) => T {
  return (body) => {
    const out: FieldProblem[] = [];
    if (body === undefined || body === null) out.push({ field: 'body', problems: ['a JSON object body is required'] });
    else rule.check(body, '', out);
    if (out.length) throw invalid(out);
    return body as T;
  };
}

const replyTo = obj({ id: str({ min: 1, max: 128 }), sender: jid() }, true);
const media = {
  chat: jid(),
  type: str({ max: 16 }),
  url: str({ min: 1, max: 4096, optional: true }),
  base64: str({ min: 1, max: 1024 * 1024 * 1024, optional: true }),
  mimetype: str({ min: 3, max: 255, pattern: /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+-]+)*$/, patternMessage: () => 'mimetype must look like type/subtype', optional: true }),
  replyTo,
};
const caption = str({ max: 4096, optional: true });

const SEND_RULES: Record<(typeof SEND_MESSAGE_TYPES)[number], Rule> = {
  text: obj({ chat: jid(), type: str({ max: 16 }), text: str({ min: 1, max: 65536 }), mentions: arr(jid(), { max: 1024, optional: true }), replyTo }),
  image: obj({ ...media, caption }),
  video: obj({ ...media, caption }),
  audio: obj({ ...media, voiceNote: bool() }),
  document: obj({ ...media, fileName: str({ min: 1, max: 255, optional: true }), caption }),
  sticker: obj(media),
  location: obj({
    chat: jid(),
    type: str({ max: 16 }),
    latitude: num({ min: -90, max: 90 }),
    longitude: num({ min: -180, max: 180 }),
    name: str({ max: 1000, optional: true }),
    address: str({ max: 1000, optional: true }),
  }),
  contacts: obj({
    chat: jid(),
    type: str({ max: 16 }),
    contacts: arr(obj({ displayName: str({ min: 1, max: 256 }), vcard: str({ min: 1, max: 10_000 }) }), { min: 1, max: 50 }),
  }),
  poll: obj({
    chat: jid(),
    type: str({ max: 16 }),
    name: str({ min: 1, max: 255 }),
    options: arr(str({ min: 1, max: 100 }), { min: 2, max: POLL_MAX_OPTIONS, unique: true }),
    selectableCount: num({ min: 0, max: POLL_MAX_OPTIONS, integer: true }),
  }),
};
const SEND_VALIDATORS = Object.fromEntries(Object.entries(SEND_RULES).map(([t, r]) => [t, compile<MessageSendDto>(r)])) as Record<string, (b: unknown) => MessageSendDto>;

export function validateSendBody(body: unknown): MessageSendDto {
  const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
  const validator = typeof type === 'string' ? SEND_VALIDATORS[type] : undefined;
  if (!validator) {
    throw invalid([{ field: 'type', problems: [`type must be one of the following values: ${SEND_MESSAGE_TYPES.join(', ')}`] }]);
  }
  const dto = validator(body);
  if (dto.type === 'poll' && dto.selectableCount > dto.options.length) {
    throw invalid([{ field: 'selectableCount', problems: ['selectableCount must not be greater than the number of options'] }]);
  }
  return dto;
}

export const validateReactionBody = compile<MessageReactionDto>(obj({ chat: jid(), sender: jid(), emoji: str({ min: 1, max: 32 }) }));

/** DELETE of a reaction: the emoji is accepted and ignored. */
export const validateReactionRemoveBody = compile<Omit<MessageReactionDto, 'emoji'>>(obj({ chat: jid(), sender: jid(), emoji: str({ max: 32, optional: true }) }));

export const validateVoteBody = compile<PollVoteDto>(obj({ chat: jid(), sender: jid(), options: arr(str({ min: 1, max: 100 }), { max: POLL_MAX_OPTIONS, unique: true }) }));
