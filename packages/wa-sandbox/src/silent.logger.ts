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

/**
 * The libraries of the virtual phones report on the console. libsignal's lines once carried whole
 * session records, private keys included; the patched libsignal prints words only, and this
 * keeps it so for anything else that hands the console an object. A process that runs virtual
 * phones (the sandbox's CLI, benches that hold a sandbox in process) keeps the text of console
 * lines and drops every argument that is not a string or a number, on stderr so that stdout stays
 * readable by scripts.
 */
export function keepConsoleTextOnly(write: (line: string) => void = (line) => void process.stderr.write(line)): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    console[method] = (...args: unknown[]) => {
      const text = args.filter((a) => typeof a === 'string' || typeof a === 'number').join(' ');
      if (text) write(`${text}\n`);
    };
  }
}
