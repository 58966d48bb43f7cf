export type BaileysModule = typeof import('@whiskeysockets/baileys', { with: { 'resolution-mode': 'import' } });

let loading: Promise<BaileysModule> | undefined;

/**
 * Baileys is ESM-only and this package compiles to CommonJS: a static import would become a
 * `require` that Jest on Node 20 cannot satisfy. `module: Node16` keeps this `import()` a real
 * dynamic import. The promise is cached so every caller shares one module instance, which matters
 * because the strict `Curve.verify` and the trusted root key are patched onto that instance.
 */
export function loadBaileys(): Promise<BaileysModule> {
  loading ??= import('@whiskeysockets/baileys');
  return loading;
}
