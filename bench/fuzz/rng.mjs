// A small seeded generator: request i of a run depends only on (seed, i), so a violation found
// at any concurrency is reproduced by the same `--seed`, whatever order the answers came in.

/** FNV-1a over the text, then mixed: a 32-bit seed from any string or number. */
function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

export class Rng {
  /** @param {string|number} seed @param {number} stream */
  constructor(seed, stream = 0) {
    this.state = hash32(`${seed}:${stream}`) || 1;
  }

  /** mulberry32: fast, and good enough to pick cases. */
  next() {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min, max) {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p) {
    return this.next() < p;
  }

  pick(list) {
    return list[Math.floor(this.next() * list.length)];
  }

  /** @param {Array<[number, T]>} weighted @returns {T} @template T */
  weighted(weighted) {
    const total = weighted.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, value] of weighted) {
      r -= w;
      if (r < 0) return value;
    }
    return weighted[weighted.length - 1][1];
  }

  hex(bytes) {
    let out = '';
    for (let i = 0; i < bytes; i++) out += this.int(0, 255).toString(16).padStart(2, '0');
    return out;
  }
}
