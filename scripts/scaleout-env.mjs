// The environment of the scale-out configuration as the tests use it; each test suite adds its
// own `schema=` to DATABASE_URL so that suites never share tables.
export const SCALEOUT_ENV = {
  DATABASE_URL: process.env.SCALEOUT_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test',
  TRANSPORT: 'nats',
  NATS_URL: process.env.SCALEOUT_NATS_URL ?? 'nats://127.0.0.1:4222',
};
