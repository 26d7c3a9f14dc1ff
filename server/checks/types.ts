// What a lab author can assert about a learner's work, and what a verdict looks like.
// The lab parser (server/labs) produces CheckSpec values; the evaluator (server/checks) consumes them.

interface CheckBase {
  /** Stable id within the lab, e.g. "multi-stage-build.1". Used in the page as data-check-id. */
  id: string;
  /** 1-based line in lab.md where the check is written (for author errors). */
  line: number;
  /** Optional human label shown next to the status, e.g. "The runtime image is small". */
  title?: string;
  /** Optional author hint appended to a failing message. */
  hint?: string;
  /** `within:` how long after its step's blocks the check may take to pass (the autopilot waits this long). */
  withinMs?: number;
}

export type ImageConfigField = 'entrypoint' | 'cmd' | 'workdir' | 'env' | 'exposedPorts' | 'labels' | 'user';

export type CheckSpec = CheckBase &
  (
    | { kind: 'image.exists'; image: string; exists: boolean }
    | { kind: 'image.size'; image: string; minBytes?: number; maxBytes?: number }
    | { kind: 'image.layers'; image: string; min?: number; max?: number }
    /** base "scratch": built FROM scratch. Otherwise: shares (or, with shares=false, does not share) its base layers with that image. */
    | { kind: 'image.base'; image: string; base: string; shares: boolean }
    /** equals: exact match (arrays/objects compared as JSON); contains: substring/element match. */
    | { kind: 'image.config'; image: string; field: ImageConfigField; equals?: unknown; contains?: string }
    | { kind: 'image.path'; image: string; path: string; exists: boolean }
    /** The image is the result of `docker build --target <stage>` of the Dockerfile at `dockerfile` (sandbox path, relative to the workdir). */
    | { kind: 'image.target'; image: string; stage: string; dockerfile: string }
    /** container: name or id. state "running" or "exited"; exitCode checked when given. */
    | { kind: 'container.state'; container: string; state: 'running' | 'exited'; exitCode?: number }
    | { kind: 'container.port'; container: string; port: number; hostPort?: number }
    | { kind: 'container.logs'; container: string; contains: string }
    | { kind: 'container.gone'; container: string }
    /** path: inside the sandbox, relative to the workdir unless absolute. */
    | { kind: 'file.exists'; path: string; exists: boolean }
    | { kind: 'file.contains'; path: string; pattern: string }
    /** Runs `run` with bash in the sandbox's workdir. */
    /**
     * failLine: on failure the reason is the output line starting with this text (Instruqt's "FAIL:").
     * hintRun: a live hint, run when the check fails; what it prints is shown as the hint (iximiuz's hintcheck).
     * node: the node (terminal) whose sandbox runs it, 1 when absent (an Instruqt check-<host>).
     */
    | { kind: 'command'; run: string; exitCode?: number; stdoutContains?: string; stdoutMatches?: string; failLine?: string; hintRun?: string; node?: number }
  )
  | (CheckBase & ObjectCheckBody);

/**
 * Checks on the rest of the Docker object model (server/checks/object-checks.ts): volumes, networks, the
 * container settings a lab sets with `docker run`, image metadata beyond the config, Compose projects,
 * Swarm nodes, services and stacks. Kept apart so the evaluator hands them over as one family.
 */
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting';
export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure';
export type ObjectCheckBody =
  | { kind: 'volume.exists'; volume: string; exists: boolean }
  | { kind: 'volume.driver'; volume: string; driver: string }
  | { kind: 'volume.labels'; volume: string; labels: Record<string, string> }
  | { kind: 'network.exists'; network: string; exists: boolean }
  | { kind: 'network.driver'; network: string; driver: string }
  | { kind: 'network.attachable'; network: string; attachable: boolean }
  /** Every named container is attached (other containers may be too). */
  | { kind: 'network.containers'; network: string; containers: string[] }
  | { kind: 'container.health'; container: string; health: ContainerHealth }
  | { kind: 'container.networks'; container: string; networks: string[] }
  /** "volume:/path" (a named volume) or "/host/path:/path" (a bind mount), each one mounted. */
  | { kind: 'container.mounts'; container: string; mounts: string[] }
  | { kind: 'container.restart'; container: string; policy: RestartPolicy }
  | { kind: 'container.env'; container: string; env: Record<string, string> }
  | { kind: 'container.image'; container: string; image: string }
  | { kind: 'container.user'; container: string; user: string }
  /** present: has a HEALTHCHECK (true) or none (false); command: its test contains this text. */
  | { kind: 'image.healthcheck'; image: string; present: boolean; command?: string }
  | { kind: 'image.stopsignal'; image: string; signal: string }
  /** Every path is a VOLUME of the image. */
  | { kind: 'image.volumes'; image: string; paths: string[] }
  /** "linux/amd64", or just "linux" / "amd64". */
  | { kind: 'image.platform'; image: string; platform: string }
  /** dir: the project's folder in the sandbox (relative to the workdir unless absolute). services [] = the project exists. */
  | { kind: 'compose.services'; dir: string; services: string[] }
  | { kind: 'compose.running'; dir: string }
  | { kind: 'compose.replicas'; dir: string; service: string; replicas: number }
  /** node "self": the engine the checks ask; otherwise a node's hostname in the swarm. */
  | { kind: 'node.role'; node: string; role: 'manager' | 'worker' }
  | { kind: 'node.swarm'; node: string; active: boolean }
  | { kind: 'node.availability'; node: string; availability: 'active' | 'pause' | 'drain' }
  | { kind: 'swarm.nodes'; min?: number; max?: number }
  | { kind: 'service.exists'; service: string; exists: boolean }
  /** Running tasks, not the desired count. */
  | { kind: 'service.replicas'; service: string; replicas: number }
  | { kind: 'service.image'; service: string; image: string }
  | { kind: 'service.ports'; service: string; ports: { published: number; target: number }[] }
  | { kind: 'service.mode'; service: string; mode: 'replicated' | 'global' }
  | { kind: 'stack.services'; stack: string; services: string[] };

export type ObjectCheckSpec = CheckBase & ObjectCheckBody;

export type CheckKind = CheckSpec['kind'];

export const CHECK_KINDS: readonly CheckKind[] = [
  'image.exists', 'image.size', 'image.layers', 'image.base', 'image.config', 'image.path', 'image.target',
  'container.state', 'container.port', 'container.logs', 'container.gone',
  'file.exists', 'file.contains', 'command',
  'volume.exists', 'volume.driver', 'volume.labels', 'network.exists', 'network.driver', 'network.attachable', 'network.containers',
  'container.health', 'container.networks', 'container.mounts', 'container.restart', 'container.env', 'container.image', 'container.user',
  'image.healthcheck', 'image.stopsignal', 'image.volumes', 'image.platform',
  'compose.services', 'compose.running', 'compose.replicas',
  'node.role', 'node.swarm', 'node.availability', 'swarm.nodes',
  'service.exists', 'service.replicas', 'service.image', 'service.ports', 'service.mode', 'stack.services',
];

export type CheckStatus = 'pending' | 'pass' | 'fail';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  /** What was measured, human-readable ("867 MB", "no such image"). */
  actual?: string;
  /** What the step expects ("under 20 MB"). */
  expected: string;
  /** A full sentence a learner understands, with a hint when failing. */
  message: string;
  /** Epoch ms of the evaluation. */
  at: number;
  /** Evaluation time in ms. */
  durationMs: number;
  /**
   * Set when the verdict is not about the learner's work: "author" (the lab's check is malformed, e.g. a
   * pattern that is not a valid regular expression), "timeout" (the check ran past its time limit),
   * "engine" (the sandbox's engine could not be asked). The status is then "fail"; absent on real verdicts.
   */
  problem?: 'author' | 'timeout' | 'engine';
}
