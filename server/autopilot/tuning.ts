// Tuning constants for the lab autopilot, each with its reason. The CLI can override the first three.

export const AUTOPILOT = {
  /** A block may take this long: the first `docker build` of a Go program takes up to a minute or two here. */
  blockTimeoutMs: 5 * 60_000,
  /** Output must stay quiet this long with the prompt at the end before a block counts as finished. */
  quietMs: 300,
  /**
   * A check that fails right after its step's blocks is re-evaluated on engine events this long before it
   * counts as failed (a container's first health check comes seconds after `docker run -d`). A check's
   * own `within:` overrides it; `--settle SECONDS` changes it.
   */
  settleMs: 10_000,
  /** A fresh shell prints its first prompt within this time once the sandbox is ready. */
  shellReadyTimeoutMs: 30_000,
  /** After a timed-out block, how long to wait for the prompt to come back after Ctrl-C. */
  interruptGraceMs: 5_000,
  /** Wide enough that typed commands and `docker images` don't wrap, which keeps transcripts readable. */
  cols: 160,
  rows: 50,
  /** What a sandbox gets (the server's defaults). */
  limits: { memoryMiB: 2048, pids: 1024, cpuShares: 512, diskGiB: 8 },
  /** Sandboxes live at most this long; the server's reaper removes them if this process dies hard. */
  sandboxTtlMs: 3_600_000,
  /** How long waitReady may take (a first template build for a new image set is ~20 s). */
  readyTimeoutMs: 180_000,
  /** Lines of a block's output shown under a failing step. */
  failureTailLines: 15,
} as const;
