import { MessageSend, PageQuery, SessionCreate, PollVote } from '@wa/contracts';
import { AppError } from '@wa/domain';
import { compileValidator, queryValues, type FieldProblem } from './request-schema';

const send = compileValidator(MessageSend, 'body');
const vote = compileValidator(PollVote, 'body');
const create = compileValidator(SessionCreate, 'body');
const pageQuery = compileValidator(PageQuery, 'query');
const page = (query: Record<string, unknown>) => ({ ...pageQuery(queryValues(query, new Set(['limit']))) });

function problems(run: () => unknown): FieldProblem[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_error');
    return (err as AppError).details.fields as FieldProblem[];
  }
  throw new Error('expected a validation_error');
}

const CHAT = '491701234567@s.whatsapp.net';

describe('compileValidator', () => {
  it('passes a valid body through unchanged', () => {
    const body = { chat: CHAT, type: 'text', text: 'hi', mentions: [CHAT], replyTo: { id: 'ABC', sender: CHAT } };
    expect(send(body)).toBe(body);
  });

  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'TEXT', ''])(
    'refuses the message type %j with one problem on `type`, never a lookup through the prototype chain',
    (type) => {
      expect(problems(() => send({ chat: CHAT, type, text: 'x' }))).toEqual([{ field: 'type', problems: [expect.stringContaining('text, image, video')] }]);
    },
  );

  it('refuses a non-object body and a type that is not a string', () => {
    expect(problems(() => send([1, 2]))).toEqual([{ field: 'body', problems: ['body must be an object'] }]);
    expect(problems(() => send({ chat: CHAT, type: { toString: 1 }, text: 'x' }))[0].field).toBe('type');
  });

  it('names every bad field of the chosen message shape, nested and unknown ones included', () => {
    const fields = problems(() => send({ chat: 'nope', type: 'text', text: '', replyTo: { id: 5 }, extra: 1 }));
    expect(fields.map((f) => f.field).sort()).toEqual(['chat', 'extra', 'replyTo.id', 'replyTo.sender', 'text']);
    expect(fields.find((f) => f.field === 'chat')?.problems[0]).toContain('491701234567@s.whatsapp.net');
    expect(fields.find((f) => f.field === 'extra')?.problems).toEqual(['property extra should not exist']);
  });

  it('treats an own `__proto__` key from JSON.parse as an unknown property, not as the prototype', () => {
    const body = JSON.parse(`{"chat":"${CHAT}","sender":"${CHAT}","options":[],"__proto__":{"options":5}}`) as object;
    expect(problems(() => vote(body))).toEqual([{ field: '__proto__', problems: ['property __proto__ should not exist'] }]);
  });

  it('does not walk input deeper than the schema: a free-form field nested 100,000 deep validates without recursion', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const body = { name: 'x', metadata: deep };
    expect(create(body)).toBe(body);
    let arrays: unknown = [];
    for (let i = 0; i < 100_000; i++) arrays = [arrays];
    expect(problems(() => create({ name: arrays }))).toEqual([{ field: 'name', problems: ['name must be a string'] }]);
  });

  it('lists at most 20 fields', () => {
    expect(problems(() => vote({ chat: CHAT, sender: CHAT, options: Array.from({ length: 12 }, () => null), extra1: 1, extra2: 2, extra3: 3, extra4: 4, extra5: 5, extra6: 6, extra7: 7, extra8: 8, extra9: 9 }))).toHaveLength(20);
  });

  it('reports only the first problem of a large failing body, so a huge array cannot make it collect millions of errors', () => {
    const options = Array.from({ length: 200_000 }, () => 7);
    expect(problems(() => vote({ chat: CHAT, sender: CHAT, options }, 5_000_000))).toHaveLength(1);
    expect(problems(() => vote({ chat: CHAT, sender: CHAT, options: [1, 2] }, 100)).map((f) => f.field)).toEqual(['options[0]', 'options[1]']);
  });

  it('coerces query strings and refuses what does not fit', () => {
    expect(page({ limit: '10', cursor: 'abc' })).toEqual({ limit: 10, cursor: 'abc' });
    expect(problems(() => page({ limit: 'ten' }))).toEqual([{ field: 'limit', problems: ['limit must be an integer'] }]);
    expect(problems(() => page({ limit: ['1', '2'] }))[0].field).toBe('limit');
    expect(problems(() => page({ limit: '0' }))).toEqual([{ field: 'limit', problems: ['limit must not be less than 1'] }]);
    expect(problems(() => page({ constructor: 'x' }))).toEqual([{ field: 'constructor', problems: ['property constructor should not exist'] }]);
    expect(problems(() => page(JSON.parse('{"__proto__": ["1"]}') as Record<string, unknown>))).toEqual([{ field: '__proto__', problems: ['property __proto__ should not exist'] }]);
    for (const limit of ['1e400', 'Infinity', '0x10', '1e2', ' 5', '']) expect(problems(() => page({ limit }))[0].field).toBe('limit');
  });
});
