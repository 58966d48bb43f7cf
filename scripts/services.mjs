// The scale-out configuration's services (PostgreSQL, NATS with JetStream). Tests of that
// configuration need them running: start a stopped one with the machine's own command rather
// than skipping the tests.
import { execSync } from 'node:child_process';
import { connect } from 'node:net';

const SERVICES = [
  {
    name: 'PostgreSQL',
    port: 5432,
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  {
    name: 'NATS',
    port: 4222,
    start:
      'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
  },
];

function reachable(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

export async function ensureServices() {
  for (const s of SERVICES) {
    if (await reachable(s.port)) continue;
    process.stderr.write(`${s.name} is not answering on 127.0.0.1:${s.port}; starting it\n`);
    try {
      execSync(s.start, { stdio: 'inherit', shell: '/bin/bash' });
    } catch (err) {
      throw new Error(`could not start ${s.name}: ${err.message}`);
    }
    for (let i = 0; i < 30 && !(await reachable(s.port)); i++) await new Promise((r) => setTimeout(r, 500));
    if (!(await reachable(s.port))) throw new Error(`${s.name} did not come up on port ${s.port}`);
  }
}
