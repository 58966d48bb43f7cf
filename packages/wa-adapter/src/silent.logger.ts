/** The subset of pino that Baileys calls; any pino logger satisfies it. */
export interface WaLogger {
  level: string;
  child(bindings: Record<string, unknown>): WaLogger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

const ignore = (): void => undefined;

/** Used when the host passes no logger: Baileys' default pino logger writes to stdout. */
export const silentLogger: WaLogger = {
  level: 'silent',
  child: () => silentLogger,
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
