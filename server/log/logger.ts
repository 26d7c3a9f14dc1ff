// The server's log: `log(msg, err?)`, the one interface every module takes. Human lines by default
// ("<ISO time> <msg>: <error>"); LOG_FORMAT=json gives one JSON object a line through pino, with
// level, time, msg, the session and sandbox ids, and the error. The ids come from the house
// wording of log lines, "session <id>" and "sandbox <id>", so no caller has to change.
import { pino, stdTimeFunctions, type Logger as Pino } from 'pino';

export type LogFormat = 'human' | 'json';

export interface Logger {
  /** A line; with an error it is logged at level error, else info. */
  log(msg: string, err?: unknown): void;
}

export interface LoggerOptions {
  format: LogFormat;
  /** Where lines go (stdout in the server: the journal under systemd). */
  write(line: string): void;
  /** Error stacks too (DEBUG=1). */
  stacks?: boolean;
  now?: () => Date;
}

// Session ids are 12 base64url characters, sandbox ids 12 hex digits.
const SESSION = /\bsession ([A-Za-z0-9_-]{8,24})\b/;
const SANDBOX = /\bsandbox ([0-9a-f]{12})\b/;

/** The ids a line names, for the JSON fields. */
export function idsIn(msg: string): { session?: string; sandbox?: string } {
  const out: { session?: string; sandbox?: string } = {};
  const s = SESSION.exec(msg)?.[1];
  if (s) out.session = s;
  const b = SANDBOX.exec(msg)?.[1];
  if (b) out.sandbox = b;
  return out;
}

export function createLogger(opts: LoggerOptions): Logger {
  if (opts.format === 'json') return jsonLogger(opts);
  const now = opts.now ?? (() => new Date());
  return {
    log: (msg, err) => {
      const detail = err instanceof Error ? `: ${err.message}` : err !== undefined ? `: ${String(err)}` : '';
      opts.write(`${now().toISOString()} ${msg}${detail}\n`);
      if (err instanceof Error && opts.stacks && err.stack) opts.write(`${err.stack}\n`);
    },
  };
}

function jsonLogger(opts: LoggerOptions): Logger {
  const errField = (err: unknown) =>
    err instanceof Error ? { type: err.name, message: err.message, ...(opts.stacks && err.stack ? { stack: err.stack } : {}) } : { message: String(err) };
  const p: Pino = pino(
    {
      serializers: { err: errField },
      base: undefined, // no pid/hostname: the journal has them
      messageKey: 'msg',
      timestamp: opts.now ? () => `,"time":"${opts.now!().toISOString()}"` : stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (s: string) => opts.write(s) },
  );
  return {
    log: (msg, err) => (err === undefined ? p.info(idsIn(msg), msg) : p.error({ ...idsIn(msg), err }, msg)),
  };
}
