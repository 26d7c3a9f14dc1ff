// Engine tests run inside `npm test` or fail it: a missing engine is a broken setup, not a reason to
// go green. LABLAB_SKIP_ENGINE_TESTS=1 is the one explicit way to leave them out.
import Docker from 'dockerode';

export const SKIP_ENV = 'LABLAB_SKIP_ENGINE_TESTS';

/**
 * The `skip` option for a suite that needs the host engine: a reason when the env asks to skip,
 * otherwise false. Throws (failing the file) when no engine answers.
 */
export async function requireEngine(env: NodeJS.ProcessEnv = process.env, socketPath = '/var/run/docker.sock'): Promise<string | false> {
  if (env[SKIP_ENV] === '1') return `${SKIP_ENV}=1`;
  try {
    await new Docker({ socketPath, timeout: 10_000 }).ping();
    return false;
  } catch (err) {
    throw new Error(`no Docker engine: run sandbox/host/setup.sh (or set ${SKIP_ENV}=1 to skip the engine tests). ${socketPath}: ${(err as Error).message}`);
  }
}
