/**
 * The host's logger: one JSON line per event (`{"time":…,"level":…,"msg":…,…fields}`), errors
 * and warnings on stderr, the rest on stdout. Fields never carry secrets: callers pass ids and
 * counts, never passwords, tokens or message bodies.
 */
import type { HostLogger, LogFields } from '../../plugin/host-contract/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export class LineLogger implements HostLogger {
  constructor(
    private readonly level: LogLevel,
    private readonly write: (level: LogLevel, line: string) => void = (level, line) =>
      (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(`${line}\n`),
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }

  private log(level: LogLevel, message: string, fields?: LogFields): void {
    if (rank[level] < rank[this.level]) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value !== undefined && !(key in entry)) entry[key] = value;
    }
    this.write(level, JSON.stringify(entry));
  }
}
