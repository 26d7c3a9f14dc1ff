// What the person operating the server watches: Prometheus metrics through prom-client, in a
// registry of our own (no process-global state, so two servers in one test process do not clash).
import client from 'prom-client';
import type { SessionMetrics } from '../sessions/manager.ts';

export interface MetricsSources {
  /** Sandboxes per state: learners' (starting, ready) and the pool's (idle, filling). */
  sandboxes(): Record<'starting' | 'ready' | 'pool_idle' | 'pool_filling', number>;
  /** Ready sandboxes waiting in the pool, and how many it aims for. */
  pool(): { idle: number; target: number };
  /** Learners waiting for a free sandbox. */
  queueLength(): number;
  /** Learners with a live session, per event (by its short code). */
  eventLearners(): Promise<{ event: string; learners: number }[]>;
}

export interface Metrics {
  readonly contentType: string;
  /** Hooks for the session manager. */
  readonly sessions: SessionMetrics;
  poolUnitReady(ms: number): void;
  text(): Promise<string>;
}

/**
 * How often prom-client samples the event loop (`monitorEventLoopDelay`'s resolution), in ms.
 * Node's histogram records the time between samples, so an idle loop reads this much: the delay
 * is a reading minus this (`eventLoopDelayMs`).
 */
export const EVENT_LOOP_SAMPLE_MS = 10;

/** The event loop's delay from a `lablab_process_nodejs_eventloop_lag_*` reading (ms): the reading less the sample interval. */
export function eventLoopDelayMs(readingMs: number, sampleMs = EVENT_LOOP_SAMPLE_MS): number {
  return Math.max(0, readingMs - sampleMs);
}

export function createMetrics(src: MetricsSources): Metrics {
  const registry = new client.Registry();
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry, prefix: 'lablab_process_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  new client.Gauge({
    name: 'lablab_sandboxes',
    help: 'Sandboxes by state: held by learners (starting, ready) or by the warm pool (pool_idle, pool_filling).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      for (const [state, n] of Object.entries(src.sandboxes())) this.set({ state }, n);
    },
  });
  new client.Gauge({
    name: 'lablab_pool_size',
    help: 'Ready sandboxes waiting in the warm pool.',
    registers,
    collect() {
      this.set(src.pool().idle);
    },
  });
  new client.Gauge({
    name: 'lablab_pool_target',
    help: 'Ready sandboxes the warm pool aims for right now (configured size, raised by events).',
    registers,
    collect() {
      this.set(src.pool().target);
    },
  });
  new client.Gauge({
    name: 'lablab_queue_length',
    help: 'Learners waiting for a free sandbox.',
    registers,
    collect() {
      this.set(src.queueLength());
    },
  });
  const eventGauge = new client.Gauge({
    name: 'lablab_event_active_learners',
    help: 'Learners with a live session, per workshop event.',
    labelNames: ['event'] as const,
    registers,
    async collect() {
      const counts = await src.eventLearners();
      eventGauge.reset(); // an event that ended disappears rather than staying at its last value
      for (const e of counts) eventGauge.set({ event: e.event }, e.learners);
    },
  });
  const ready = new client.Histogram({
    name: 'lablab_sandbox_ready_seconds',
    help: "From a learner's session starting to its sandboxes being ready (source: pool or cold create); pool_fill is a pooled unit's own create.",
    labelNames: ['source'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
    registers,
  });
  const checks = new client.Histogram({
    name: 'lablab_check_seconds',
    help: "Time to evaluate a step's checks when a learner asks.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const bytes = new client.Counter({
    name: 'lablab_terminal_bytes_total',
    help: 'Bytes of terminal output sent from sandboxes to learners.',
    registers,
  });

  const echo = new client.Histogram({
    name: 'lablab_terminal_echo_seconds',
    help: "From a learner's keystroke being written to the sandbox shell to the shell's first output after it, measured at the server.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });

  return {
    contentType: registry.contentType,
    sessions: {
      sandboxReady: (ms, source) => ready.observe({ source }, ms / 1000),
      checkRun: (ms) => checks.observe(ms / 1000),
      terminalBytes: (n) => bytes.inc(n),
      terminalEcho: (ms) => echo.observe(ms / 1000),
    },
    poolUnitReady: (ms) => ready.observe({ source: 'pool_fill' }, ms / 1000),
    text: () => registry.metrics(),
  };
}
