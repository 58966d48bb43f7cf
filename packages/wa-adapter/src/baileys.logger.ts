import type { WaLogger } from './silent.logger';

/** What Baileys logs at error level for every `<stream:error>` the server sends. */
const STREAM_ERROR_MSG = 'stream errored out';
/** `<stream:error code="515"/>`: "restart required", which ends every pairing and nothing else. */
const RESTART_REQUIRED = '515';

function isRestartRequired(obj: unknown): boolean {
  const node = (obj as { fullErrorNode?: { attrs?: Record<string, unknown> } } | null)?.fullErrorNode;
  return node?.attrs?.code === RESTART_REQUIRED;
}

/**
 * Baileys logs every stream error at error level, the 515 "restart required" that the server sends
 * right after each pairing among them: one false alarm per linked account for anyone who alerts on
 * error lines. That one is logged at info; every other stream error (a conflict, a logout, a server
 * fault) stays an error. Children are wrapped too, since Baileys logs through them.
 */
export function withRoutineStreamErrorsAsInfo(logger: WaLogger): WaLogger {
  const wrapped: WaLogger = {
    get level() {
      return logger.level;
    },
    set level(value: string) {
      logger.level = value;
    },
    child: (bindings) => withRoutineStreamErrorsAsInfo(logger.child(bindings)),
    trace: (obj, msg) => logger.trace(obj, msg),
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => (msg === STREAM_ERROR_MSG && isRestartRequired(obj) ? logger.info(obj, msg) : logger.error(obj, msg)),
  };
  return wrapped;
}
