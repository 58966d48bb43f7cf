// Pair + log in one Baileys session, then hold N idle sessions in one process and report the
// time, CPU and memory they cost. Run after `pnpm build`: node bench/pair-and-idle.mjs --sessions 200
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WaSandbox } = require('../dist/index.js');
const { pairWithQr } = require('../dist/testing.js');

const flag = process.argv.indexOf('--sessions');
const sessionCount = flag > -1 ? Number(process.argv[flag + 1]) : 200;

const sandbox = await (await WaSandbox.create({ autoDeliveryReceipts: false })).start();
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

await sandbox.createPhone('15559000000', 'Bench');
const cpu0 = cpu();
const t0 = performance.now();
const first = await pairWithQr(sandbox, '15559000000');
const pairMs = performance.now() - t0;
const pairCpuMs = cpu() - cpu0;
await first.end();

global.gc?.();
const rssBefore = process.memoryUsage().rss;
const sessions = [];
const t1 = performance.now();
for (let i = 0; i < sessionCount; i++) {
  const phone = String(15559100000 + i);
  await sandbox.createPhone(phone, `Idle ${i}`);
  sessions.push(await pairWithQr(sandbox, phone));
}
const connectMs = performance.now() - t1;
await new Promise((resolve) => setTimeout(resolve, 2000));
global.gc?.();
const rssAfter = process.memoryUsage().rss;

console.log(JSON.stringify({
  pairAndLoginMs: Math.round(pairMs),
  pairAndLoginCpuMs: Math.round(pairCpuMs),
  sessions: sessionCount,
  pairAllMs: Math.round(connectMs),
  rssPerIdleSessionKiB: Math.round((rssAfter - rssBefore) / sessionCount / 1024),
  note: 'RSS includes both ends (Baileys client and sandbox server) of each session',
}));

await Promise.all(sessions.map((s) => s.end()));
await sandbox.stop();
