// Reading the Docker engine's HTTP answers through dockerode's errors, shared by the driver modules.

/** The HTTP status dockerode attached to an error, if any. */
export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? (err as { statusCode?: number }).statusCode : undefined;
}

/** The value, or null when the engine answered 404 (no such object); other errors are thrown. */
export async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}
