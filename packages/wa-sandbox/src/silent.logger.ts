import type { ILogger } from './baileys.loader';

const noop = (): void => undefined;

/** Baileys logs through pino at info level by default; sandboxes and tests want quiet. */
export const silentLogger: ILogger = {
  level: 'silent',
  child: () => silentLogger,
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
};
