// libsignal ships typings for its session classes only; this is the part of `src/curve.js` that
// the strict verifier calls (the same file Baileys' Curve wraps).
declare module 'libsignal/src/curve.js' {
  export function verifySignature(pubKey: Buffer, msg: Buffer, sig: Buffer, isInit?: boolean): boolean;
}
