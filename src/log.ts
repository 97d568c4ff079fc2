import type { Logger as TemporalLogger, LogLevel as TemporalLevel, LogMetadata } from '@temporalio/worker';
import pino from 'pino';

/**
 * JSON lines through pino: `{"level":"info","time":"…","component":"stack","msg":"…",…fields}`.
 * Debug and info go to stdout, warnings and errors to stderr.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const root = pino(
  {
    level: 'info',
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Temporal's log metadata carries errors as `error`: message and stack, not `{}`.
    serializers: { error: pino.stdSerializers.err },
  },
  // The process streams themselves (written through at each line, so a test can watch them).
  pino.multistream(
    [
      { level: 'trace', stream: process.stdout },
      { level: 'warn', stream: process.stderr },
    ],
    { dedupe: true },
  ),
);
/** A child keeps the level it was made with: setLogLevel moves them all. */
const children: pino.Logger[] = [];

export function setLogLevel(level: Level): void {
  root.level = level;
  for (const child of children) child.level = level;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function child(component: string): pino.Logger {
  const log = root.child({ component });
  children.push(log);
  return log;
}

export function logger(component: string): Logger {
  const log = child(component);
  const write = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) => log[level](fields, msg);
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

const TEMPORAL_LEVELS: Record<TemporalLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The Temporal SDK's `Logger` (worker, activity and workflow logs) writing through the same pino logger. */
export function temporalLogger(component = 'temporal'): TemporalLogger {
  const log = child(component);
  const at = (level: TemporalLevel) => (message: string, meta: LogMetadata = {}) => log[TEMPORAL_LEVELS[level]](meta, message);
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}
