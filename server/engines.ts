// Which sandbox driver the server runs on: the host engine alone (the default, unchanged), or the
// engine fleet when ENGINES or ENGINES_FILE lists engines. The fleet is probed on a timer; the
// engines file is re-read then, so a host drains an engine by setting `drain: true` in it.
import { createDockerSandboxDriver, type DockerSandboxDriverConfig } from '../sandbox/driver/docker-driver.ts';
import { parseEngines } from '../sandbox/driver/engines-config.ts';
import { createEngineFleetFromSpecs } from '../sandbox/driver/engine-members.ts';
import { ENGINE_LOST_MESSAGE, type EngineFleet, type FullDriver } from '../sandbox/driver/engine-fleet.ts';
import { systemTimers, type Timers } from './timers.ts';

/** What differs on an engine on another host (sandbox/driver/remote-site.ts), said once at start. */
export const REMOTE_NOTE = '; remote: memory, pids and CPU held as container limits, disk size NOT enforced, egress rules set on that host by a helper container';

export const ENGINES_TUNING = {
  /** How often every engine is asked for its health and figures (two misses in a row: lost). */
  probeEveryMs: 10_000,
};

export interface SandboxBackend {
  driver: FullDriver;
  /** The fleet, when several engines are configured. */
  fleet?: EngineFleet;
  /** One line for the start-up log. */
  describe: string;
  /** Starts probing; a lost engine's sessions are ended through `lose`. */
  start(lose: (sessionIds: string[], message: string) => void): Promise<void>;
  dispose(): void;
}

export function createSandboxBackend(opts: {
  env: { ENGINES?: string; ENGINES_FILE?: string };
  readFile: (p: string) => string;
  base: DockerSandboxDriverConfig;
  memoryMiB: number;
  timers?: Timers;
  log: (msg: string, err?: unknown) => void;
}): SandboxBackend {
  const { env, log } = opts;
  const timers = opts.timers ?? systemTimers;
  if (!env.ENGINES?.trim() && !env.ENGINES_FILE) {
    return { driver: createDockerSandboxDriver(opts.base), describe: 'sandbox engine: the host engine', start: async () => {}, dispose: () => {} };
  }
  const read = () => parseEngines(env, env.ENGINES_FILE ? opts.readFile(env.ENGINES_FILE) : undefined);
  const specs = read();
  let lose: (ids: string[], message: string) => void = () => {};
  const fleet = createEngineFleetFromSpecs(specs, opts.base, { memoryMiB: opts.memoryMiB, log, onEngineLost: (_e, ids) => lose(ids, ENGINE_LOST_MESSAGE) });
  const applyDrain = (list = specs) => {
    for (const s of list) if (fleet.engines().find((e) => e.id === s.id)?.draining !== s.drain) fleet.drain(s.id, s.drain);
  };
  applyDrain();
  let timer: unknown;
  let stopped = false;
  const tick = async () => {
    if (env.ENGINES_FILE) {
      try {
        applyDrain(read());
      } catch (err) {
        // A half-saved file must not stop probing; the last good drain flags stay.
        log('ENGINES_FILE could not be re-read; keeping the last drain settings', err);
      }
    }
    await fleet.refresh();
    if (!stopped) timer = timers.setTimeout(() => void tick(), ENGINES_TUNING.probeEveryMs);
  };
  return {
    driver: fleet,
    fleet,
    describe: `sandbox engines: ${specs.map((s) => `${s.id} (${s.url}${s.drain ? ', drained' : ''}${s.local ? '' : REMOTE_NOTE})`).join(', ')}`,
    async start(l) {
      lose = l;
      await tick();
    },
    dispose() {
      stopped = true;
      timers.clearTimeout(timer);
    },
  };
}
