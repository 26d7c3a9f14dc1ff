// The server's edge to sandbox/: sandbox/ throws its own SandboxError; everything past this
// point (HTTP, sockets, sessions) speaks AppError, so learners keep getting a code and a message.
import { AppError, type ErrorCode } from './errors.ts';
import { SandboxError, type SandboxErrorCode } from '../sandbox/driver/errors.ts';

const CODES: Record<SandboxErrorCode, ErrorCode> = {
  bad_request: 'bad_request',
  not_found: 'not_found',
  forbidden: 'forbidden',
  lab_broken: 'lab_broken',
  capacity: 'capacity',
  sandbox_failed: 'sandbox_failed',
  timeout: 'timeout',
  // The sandbox is gone with its machine: to the learner this is a session that ended.
  engine_lost: 'session_expired',
};

/** A SandboxError as the AppError the server speaks; anything else unchanged. */
export function toAppError(err: unknown): unknown {
  if (err instanceof SandboxError) return new AppError(CODES[err.code], err.message, { cause: err });
  return err;
}

/**
 * The same object, with every method's throw or rejection mapped by toAppError. Methods returning
 * other objects (an engine client, a shell stream) return them as they are: their errors are
 * transport errors, which the server already treats as unexpected.
 */
export function withAppErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let out: unknown;
        try {
          out = value.apply(obj, args);
        } catch (err) {
          throw toAppError(err);
        }
        if (out instanceof Promise) return out.catch((err: unknown) => { throw toAppError(err); });
        return out;
      };
    },
  });
}
