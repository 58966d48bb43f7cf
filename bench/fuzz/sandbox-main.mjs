// The WhatsApp sandbox as a child process of the fuzz run (on a free port, which the sandbox's
// own CLI does not offer), so the fuzzer drives it only over its control API and runs the same
// under Jest and from the command line.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WaSandbox } = require('../../packages/wa-sandbox/dist/index.js');

const sandbox = await (await WaSandbox.create()).start();
process.stdout.write(`${JSON.stringify({ event: 'wa-sandbox.ready', wsUrl: sandbox.wsUrl, controlUrl: sandbox.controlUrl, rootPublicKey: sandbox.rootPublicKey, mediaBaseUrl: sandbox.mediaBaseUrl, mediaCaFile: sandbox.mediaCaFile })}\n`);
const stop = () => void sandbox.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
