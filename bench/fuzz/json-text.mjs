// Request bodies are built as values and serialized here, so that a case can splice in JSON
// text no JavaScript value produces: 5,000 levels of nesting, duplicate keys, 1e400, a number
// with 400 digits. Keys such as "__proto__" survive because objects are built with own,
// enumerable properties (see setKey) and written from Object.keys.

export class RawJson {
  /** @param {string} text JSON text written as is */
  constructor(text) {
    this.text = text;
  }
}

/** Sets an own enumerable property, even for "__proto__" (plain assignment would set the prototype). */
export function setKey(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

export function toJsonText(value) {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${toJsonText(value[k])}`)
      .join(',')}}`;
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/** A structural copy that keeps own "__proto__" keys and RawJson leaves. */
export function clone(value) {
  if (value instanceof RawJson) return value;
  if (Array.isArray(value)) return value.map(clone);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value)) setKey(out, k, clone(value[k]));
    return out;
  }
  return value;
}

export const nestedArrays = (depth) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);
export const nestedObjects = (depth) => new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
/** Alternating objects and arrays, the shape that defeats parsers which only count one kind. */
export const nestedMixed = (depth) => {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    if (i % 2) {
      open += '[';
      close = `]${close}`;
    } else {
      open += '{"x":';
      close = `}${close}`;
    }
  }
  return new RawJson(`${open}0${close}`);
};
