// Follows one sandbox's inner engine and re-evaluates the learner's pending checks when something they
// depend on changes, so ticks appear without a click. Events are batched (a build emits dozens) and the
// terminal going idle (poke) covers what events can't see: files and commands.
import { systemTimers, type Timers } from '../timers.ts';
import type { EngineEvent } from '../../sandbox/driver/types.ts';
import { type CheckContext, type EvaluateOptions, evaluateChecks } from './evaluate.ts';
import type { CheckResult, CheckSpec } from './types.ts';

/** Tuning, each with its reason. */
export const WATCHER_TUNING = {
  /** Quiet time after the last relevant event before evaluating: a multi-step build ends in one evaluation. */
  debounceMs: 150,
  /** Longest an evaluation waits while events keep coming (a long build with running containers). */
  maxWaitMs: 2_000,
  /** First reconnect delay when the event stream ends; doubles each failed try. */
  reconnectMinMs: 250,
  /** Reconnect delay cap: an engine that restarts comes back within seconds. */
  reconnectMaxMs: 10_000,
} as const;

export type WatcherClock = Timers;
export const systemClock: WatcherClock = systemTimers;

export interface CheckWatcherDeps {
  ctx: CheckContext;
  /** The checks still pending in the learner's current lab; asked at each evaluation, so it is always current. */
  pendingChecks(): readonly CheckSpec[];
  onResults(results: CheckResult[]): void;
  /** Event stream trouble and evaluation bugs; they never stop the watcher. */
  onError?(err: Error): void;
  /** Injected for tests; default evaluateChecks. */
  evaluate?(specs: readonly CheckSpec[], ctx: CheckContext, opts?: EvaluateOptions): Promise<CheckResult[]>;
  evaluateOptions?: EvaluateOptions;
  clock?: WatcherClock;
  tuning?: Partial<typeof WATCHER_TUNING>;
}

export interface CheckWatcher {
  /** The terminal went idle (a clicked block finished, a prompt came back): re-evaluate every pending check. */
  poke(): void;
  dispose(): void;
}

const IMAGE_ACTIONS = new Set(['tag', 'untag', 'delete', 'import', 'load', 'pull', 'build', 'commit']);
const CONTAINER_ACTIONS = new Set(['create', 'start', 'restart', 'die', 'stop', 'kill', 'destroy', 'rename', 'pause', 'unpause', 'oom', 'health_status', 'update']);
/** Volume, network, service and node events change the object-model checks; each type's every action counts. */
const OBJECT_TYPES = new Set(['volume', 'network', 'service', 'node']);
type Family = 'image' | 'container' | 'volume' | 'network' | 'service' | 'node';

/** Which check kinds (besides their own family's) an event family can change. */
const ALSO_AFFECTS: Record<Family, readonly string[]> = {
  image: [],
  // Compose projects, network members and local swarm tasks are containers.
  container: ['compose.', 'network.containers', 'service.replicas', 'stack.'],
  volume: ['container.mounts', 'compose.'],
  network: ['container.networks', 'compose.'],
  // A node going down or drained moves tasks; joining changes the counts.
  node: ['swarm.nodes', 'service.replicas'],
  service: ['stack.'],
};

/** Which family of checks an engine event can change, if any. */
export function eventFamily(e: EngineEvent): Family | null {
  if (e.type === 'image' && IMAGE_ACTIONS.has(e.action)) return 'image';
  if (e.type === 'container' && CONTAINER_ACTIONS.has(e.action.split(':')[0]!)) return 'container';
  if (OBJECT_TYPES.has(e.type)) return e.type as Family;
  return null;
}

/**
 * Whether an event can change a check's verdict. Image events touch every image check: a tag can change
 * which image a name means, and "built FROM scratch" depends on every other image. Container events
 * touch the checks of that container only (by name, or id prefix), except renames. File and command
 * checks are never driven by events: a command check may itself start containers, which would loop.
 */
export function isAffected(spec: CheckSpec, e: EngineEvent): boolean {
  const family = eventFamily(e);
  if (family === null) return false;
  if (ALSO_AFFECTS[family].some((k) => spec.kind.startsWith(k))) return true;
  if (family !== 'image' && family !== 'container') return spec.kind.startsWith(`${family}.`);
  if (family === 'image') return spec.kind.startsWith('image.');
  if (family === 'container') {
    if (!spec.kind.startsWith('container.')) return false;
    const c = (spec as { container: string }).container;
    if (e.action === 'rename') return true;
    const name = e.attributes['name'];
    return name === c || (c.length >= 4 && (e.subject.startsWith(c) || (e.attributes['id'] ?? '').startsWith(c))) || (!name && !e.subject);
  }
  return false;
}

export function createCheckWatcher(deps: CheckWatcherDeps): CheckWatcher {
  const clock = deps.clock ?? systemClock;
  const t = { ...WATCHER_TUNING, ...deps.tuning };
  const evaluate = deps.evaluate ?? evaluateChecks;
  const report = (err: unknown): void => deps.onError?.(err instanceof Error ? err : new Error(String(err)));

  let disposed = false;
  let stopEvents: (() => void) | undefined;
  let reconnectTimer: unknown;
  let attempts = 0;

  // What the next evaluation covers.
  let batch: EngineEvent[] = [];
  let everything = false;
  let firstQueuedAt: number | undefined;
  let timer: unknown;
  let running = false;

  function schedule(): void {
    if (disposed) return;
    const now = clock.now();
    firstQueuedAt ??= now;
    if (timer !== undefined) clock.clearTimeout(timer);
    const delay = Math.max(0, Math.min(t.debounceMs, firstQueuedAt + t.maxWaitMs - now));
    timer = clock.setTimeout(() => {
      timer = undefined;
      void flush();
    }, delay);
  }

  async function flush(): Promise<void> {
    if (disposed) return;
    if (running) return; // the running evaluation re-schedules when it ends
    const events = batch;
    const all = everything;
    batch = [];
    everything = false;
    firstQueuedAt = undefined;
    let specs: readonly CheckSpec[];
    try {
      specs = deps.pendingChecks().filter((s) => all || events.some((e) => isAffected(s, e)));
    } catch (err) {
      report(err);
      return;
    }
    if (specs.length === 0) return;
    running = true;
    try {
      const results = await evaluate(specs, deps.ctx, deps.evaluateOptions);
      if (!disposed) deps.onResults(results);
    } catch (err) {
      report(err);
    } finally {
      running = false;
      if (!disposed && (batch.length > 0 || everything)) schedule();
    }
  }

  function onEvent(e: EngineEvent): void {
    if (disposed) return;
    attempts = 0;
    if (eventFamily(e) === null) return;
    batch.push(e);
    schedule();
  }

  function connect(): void {
    if (disposed) return;
    try {
      stopEvents = deps.ctx.engine.events(onEvent, (err) => {
        stopEvents = undefined;
        if (disposed) return;
        if (err) report(err);
        const delay = Math.min(t.reconnectMaxMs, t.reconnectMinMs * 2 ** attempts);
        attempts++;
        reconnectTimer = clock.setTimeout(() => {
          reconnectTimer = undefined;
          connect();
          // Events may have been missed while disconnected: look at everything once.
          everything = true;
          schedule();
        }, delay);
      });
    } catch (err) {
      report(err);
      const delay = Math.min(t.reconnectMaxMs, t.reconnectMinMs * 2 ** attempts);
      attempts++;
      reconnectTimer = clock.setTimeout(() => {
        reconnectTimer = undefined;
        connect();
      }, delay);
    }
  }

  connect();

  return {
    poke() {
      if (disposed) return;
      everything = true;
      schedule();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
      stopEvents?.();
      stopEvents = undefined;
    },
  };
}
