import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log line: credentials of
 * callers (Authorization, cookies, API keys), webhook signing secrets, and WhatsApp key material
 * (Baileys' `creds` and signal `keys`, libsignal's session fields) should any of them be logged.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'authorization',
  '*.authorization',
  'cookie',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'previousSecret',
  '*.previousSecret',
  'creds',
  '*.creds',
  'keys',
  '*.keys',
  'privKey',
  '*.privKey',
  'rootKey',
  '*.rootKey',
  'chainKey',
  '*.chainKey',
];

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `auto` is readable lines for a person at a terminal and JSON lines for everything else (files, pipes, collectors). */
export function resolveLogFormat(format: LogFormat, stdoutIsTty = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  return format === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : format;
}

/** Logs go to stdout unless `destination` says otherwise (tests). */
export function createRootLogger(name: string, level: string, format: 'json' | 'pretty' = 'json', destination?: NodeJS.WritableStream): Logger {
  const options = {
    name,
    level,
    base: { service: name },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Redaction runs before the stream, so the pretty form hides exactly what the JSON form hides.
  if (format === 'pretty') {
    return pino(options, pretty({ ...(destination ? { colorize: false } : {}), sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l', destination: destination ?? 1 }));
  }
  return destination ? pino(options, destination) : pino(options);
}

/** API keys, webhook secrets and bearer tokens inside free text, which path redaction cannot see. */
const SECRET_TEXT: readonly [RegExp, string][] = [
  [/wag_[A-Za-z0-9_-]+/g, 'wag_[redacted]'],
  [/whsec_[A-Za-z0-9+/=_-]+/g, 'whsec_[redacted]'],
  [/(bearer\s+)[^\s"',]+/gi, '$1[redacted]'],
];

export function scrubSecrets(text: string): string {
  return SECRET_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/**
 * libsignal announces routine session bookkeeping on `console.info` and `console.log`, so those
 * go to debug; only warnings and errors keep their weight.
 */
const CONSOLE_LEVELS = {
  log: 'debug',
  info: 'debug',
  debug: 'debug',
  dir: 'debug',
  trace: 'trace',
  warn: 'warn',
  error: 'error',
} as const;

let consoleSink: Logger | undefined;

function writeConsole(level: (typeof CONSOLE_LEVELS)[keyof typeof CONSOLE_LEVELS], method: string, args: unknown[]): void {
  const sink = consoleSink;
  if (!sink || !sink.isLevelEnabled(level)) return;
  const words: string[] = [];
  const fields: Record<string, unknown> = { source: 'console', method };
  let omitted = 0;
  for (const arg of args) {
    if (arg === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof arg)) {
      words.push(String(arg));
    } else if (arg instanceof Error && fields.error === undefined) {
      // Not `err`: pino's serializer would copy every enumerable property of the error.
      fields.error = { type: arg.name, message: scrubSecrets(arg.message), stack: scrubSecrets(arg.stack ?? '') };
    } else {
      omitted += 1;
    }
  }
  if (omitted > 0) fields.omittedArgs = omitted;
  sink[level](fields, scrubSecrets(words.join(' ')));
}

/**
 * Sends every `console.*` call of the process to `logger`, keeping only the text: libsignal (under
 * Baileys) passes whole session records, private and chain keys included, as console arguments,
 * and Baileys writes errors there too, all around the logger and its redaction. Objects are
 * counted and dropped, errors keep their type, message and stack, and free text loses anything
 * shaped like an API key, webhook secret or bearer token. Call it before any WhatsApp session
 * starts; calling it again only changes the logger.
 */
export function routeConsoleToLogger(logger: Logger): void {
  const installed = consoleSink !== undefined;
  consoleSink = logger;
  if (installed) return;
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => writeConsole(level, method, args);
  }
}

/** Carries the request id from the HTTP hook to every log line written while serving it. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Nest's logger interface on top of pino, tagging lines with the current request id. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  private line(context: unknown): Record<string, unknown> {
    const requestId = currentRequestId();
    const fields: Record<string, unknown> = {};
    if (typeof context === 'string') fields.context = context;
    if (requestId) fields.requestId = requestId;
    return fields;
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, params: unknown[]): void {
    const context = params.length > 0 ? params[params.length - 1] : undefined;
    const fields = this.line(context);
    if (message instanceof Error) {
      this.root[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.root[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      // Nest passes a stack trace as the second argument of error(); keep it as a field.
      if (level === 'error' && params.length === 2 && typeof params[0] === 'string') fields.stack = params[0];
      this.root[level](fields, String(message));
    }
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}
