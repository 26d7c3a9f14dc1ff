// The sandbox runtime's own error type. sandbox/ knows nothing of the server: the server maps
// these to its AppError at its edge (server/sandbox-errors.ts), so a learner still gets a code
// and a human message, and sandbox/ can be used (and tested) without server/.
export type SandboxErrorCode =
  /** The caller asked for something that cannot be (a port out of range, a path too long). */
  | 'bad_request'
  | 'not_found'
  /** Refused for safety (a symlink out of the sandbox, a host without the limits it needs). */
  | 'forbidden'
  /** A lab's image cannot be used (not found, wrong platform). */
  | 'lab_broken'
  /** Out of room: no subnet, no engine with free capacity. */
  | 'capacity'
  | 'sandbox_failed'
  | 'timeout'
  /** The engine a sandbox ran on is unreachable or was removed. */
  | 'engine_lost';

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  constructor(code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SandboxError';
  }
}
