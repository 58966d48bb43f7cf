import { withRoutineStreamErrorsAsInfo } from '../src/baileys.logger';
import type { WaLogger } from '../src/silent.logger';

/** A logger that records what reaches each level. */
function recording(lines: Array<[string, unknown, string | undefined]>, bindings: Record<string, unknown> = {}): WaLogger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push([level, { ...bindings, ...(obj as object) }, msg]);
    };
  return { level: 'info', child: (b) => recording(lines, { ...bindings, ...b }), trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

// What Baileys' socket logs on `CB:stream:error` (Socket/socket.js): the first child and the whole node.
const streamError = (attrs: Record<string, string>, content?: unknown[]) => ({ reasonNode: content?.[0], fullErrorNode: { tag: 'stream:error', attrs, content } });

describe(withRoutineStreamErrorsAsInfo.name, () => {
  it('logs the restart the server asks for after pairing (515) at info, through children too', () => {
    const lines: Array<[string, unknown, string | undefined]> = [];
    const logger = withRoutineStreamErrorsAsInfo(recording(lines)).child({ sessionId: 's1' });
    logger.error(streamError({ code: '515' }), 'stream errored out');
    expect(lines).toEqual([['info', expect.objectContaining({ sessionId: 's1' }), 'stream errored out']]);
  });

  it('keeps every other stream error, and other errors, at error', () => {
    const lines: Array<[string, unknown, string | undefined]> = [];
    const logger = withRoutineStreamErrorsAsInfo(recording(lines));
    logger.error(streamError({ code: '401' }, [{ tag: 'conflict', attrs: { type: 'device_removed' } }]), 'stream errored out');
    logger.error(streamError({}, [{ tag: 'conflict', attrs: { type: 'replaced' } }]), 'stream errored out');
    logger.error(streamError({ code: '503' }), 'stream errored out');
    logger.error({ fullErrorNode: { attrs: { code: '515' } } }, 'some other failure');
    logger.error(null, 'stream errored out');
    expect(lines.map(([level]) => level)).toEqual(['error', 'error', 'error', 'error', 'error']);
  });

  it('passes the other levels and the level itself through', () => {
    const lines: Array<[string, unknown, string | undefined]> = [];
    const inner = recording(lines);
    const logger = withRoutineStreamErrorsAsInfo(inner);
    logger.warn({ a: 1 }, 'w');
    logger.debug({ b: 2 }, 'd');
    logger.level = 'warn';
    expect(inner.level).toBe('warn');
    expect(logger.level).toBe('warn');
    expect(lines).toEqual([
      ['warn', { a: 1 }, 'w'],
      ['debug', { b: 2 }, 'd'],
    ]);
  });
});
