import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signWebhook } from './webhook-signature';

/** The headers the delivery worker sends: one `v1,` signature per live secret, space separated. */
function signedHeaders(secrets: string[], id: string, timestampSec: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': secrets.map((secret) => signWebhook(secret, id, timestampSec, body)).join(' '),
  };
}

describe(signWebhook.name, () => {
  const body = '{"id":"evt_1","type":"message.received","data":{"text":"hello"}}';
  const now = (): number => Math.floor(Date.now() / 1000);

  it('verifies with the standardwebhooks library for a single secret', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders([secret], 'evt_1', now(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('verifies with either secret while a rotation keeps both live', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signedHeaders([current, previous], 'evt_1', now(), body);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('signs the UTF-8 bytes of a body exactly as the text', () => {
    const secret = generateWebhookSecret();
    const text = '{"id":"evt_1","data":{"text":"grüße 👋"}}';
    expect(signWebhook(secret, 'evt_1', 1_700_000_000, Buffer.from(text))).toBe(signWebhook(secret, 'evt_1', 1_700_000_000, text));
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(now()), 'webhook-signature': '' };
    headers['webhook-signature'] = signWebhook(secret, 'evt_1', Number(headers['webhook-timestamp']), Buffer.from(text));
    expect(new Webhook(secret).verify(text, headers)).toEqual(JSON.parse(text));
  });

  it('is rejected for a tampered body, id or timestamp', () => {
    const secret = generateWebhookSecret();
    const timestamp = now();
    const headers = signedHeaders([secret], 'evt_1', timestamp, body);
    const verifier = new Webhook(secret);
    expect(() => verifier.verify(body.replace('hello', 'hellO'), headers)).toThrow();
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow();
    expect(() => verifier.verify(body, { ...headers, 'webhook-timestamp': String(timestamp - 1) })).toThrow();
  });
});
