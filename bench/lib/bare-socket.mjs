// The send bench's baseline for sync sends: a bare Baileys socket in a process of its own (as the
// runner's is), paired with the same sandbox, timing what the runner's sync send waits for from
// its socket: `sendMessage` until WhatsApp's server ack of the message. Driven over IPC by the
// bench, which owns the sandbox:
//   child -> {qr}               the QR to scan; the parent lets the virtual phone scan it
//   parent -> {scanned: true}
//   child -> {ready: true}      logged in
//   parent -> {send: N, warmUp: W, to: jid}
//   child -> {latencies, early} ms per send after the first W, in order; `early`: the first N after
//                               the first ten, when W holds them (the socket before its code is warm)
import { createRequire } from 'node:module';

// libsignal prints whole session records (private keys included) through console.*, as the
// runner knows; this process reports over IPC only.
for (const name of ['log', 'info', 'warn', 'error', 'debug']) console[name] = () => undefined;
const require = createRequire(import.meta.url);
const { pairWithQr } = require('../../packages/wa-sandbox/dist/testing.js');

const { wsUrl, rootPublicKey, mediaBaseUrl, mediaCaFile, phone } = JSON.parse(process.env.BARE_SOCKET_SANDBOX);
const nextMessage = () => new Promise((resolve) => process.once('message', resolve));
const sandbox = {
  wsUrl,
  rootPublicKey,
  mediaBaseUrl,
  mediaCaFile,
  scanQr: async (_phone, qr) => {
    process.send({ qr });
    await nextMessage();
  },
};
const session = await pairWithQr(sandbox, phone);
const acks = new Map();
session.sock.ws.on('CB:ack,class:message', (node) => acks.get(node.attrs.id)?.(node));
process.send({ ready: true });

const { send, warmUp, to } = await nextMessage();
const latencies = [];
const early = [];
for (let i = 0; i < send + warmUp; i++) {
  const id = `BENCH${process.pid}${String(i).padStart(8, '0')}`;
  const started = performance.now();
  const acked = new Promise((resolve) => acks.set(id, resolve));
  await session.sock.sendMessage(to, { text: 'sync bench' }, { messageId: id });
  const ack = await acked;
  acks.delete(id);
  if (ack.attrs.error) throw new Error(`the server refused ${id}: ${ack.attrs.error}`);
  const ms = performance.now() - started;
  if (i >= warmUp) latencies.push(ms);
  else if (i >= 10 && i < 10 + send) early.push(ms);
}
process.send({ latencies, early });
await session.end();
process.exit(0);
