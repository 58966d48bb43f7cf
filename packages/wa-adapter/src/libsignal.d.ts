// libsignal ships typings for its session classes only. This is the part of `src/curve.js` (the
// same file Baileys' Curve wraps) that the tests compare the native verifier against.
declare module 'libsignal/src/curve.js' {
  export function verifySignature(pubKey: Buffer, msg: Buffer, sig: Buffer, isInit?: boolean): boolean;
  export function calculateSignature(privKey: Buffer, message: Buffer): Buffer;
  export function generateKeyPair(): { pubKey: Buffer; privKey: Buffer };
}

// libsignal's per-device job queue (patched: an optional owner, and each job in its caller's async context).
declare module 'libsignal/src/queue_job.js' {
  export default function queueJob<T>(bucket: string, awaitable: () => Promise<T>, owner?: object): Promise<T>;
}

// libsignal's session record, with the members whose console messages the tests read (patched:
// the messages no longer carry the session, whose keys they printed).
declare module 'libsignal/src/session_record.js' {
  export default class SessionRecord {
    static createEntry(): object;
    setSession(entry: object): void;
    closeSession(entry: object): void;
    openSession(entry: object): void;
    removeOldSessions(): void;
  }
}
