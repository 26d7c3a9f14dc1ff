// The one application error type. `code` is stable for programs; `message` is for people.
export type ErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'forbidden'
  | 'lab_broken'
  | 'capacity'
  | 'node_cap'
  | 'sandbox_failed'
  | 'session_expired'
  | 'timeout'
  | 'rate_limited'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  lab_broken: 422,
  capacity: 503,
  node_cap: 409,
  sandbox_failed: 502,
  session_expired: 410,
  timeout: 504,
  rate_limited: 429,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'AppError';
  }
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

/** What a learner or author may see: our own message, or a generic one (never a stack trace). */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: 'internal', message: 'Something went wrong on the server. Try again; if it keeps happening, tell the workshop host.' };
}
