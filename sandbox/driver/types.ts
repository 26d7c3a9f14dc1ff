// The sandbox driver's own types. Nothing from dockerode leaks through these interfaces:
// the server, the checks and the tests speak only this vocabulary.

/** Labels put on everything the project creates on the host engine, so it can be found and reaped. */
export const LABEL_PREFIX = 'io.lablab';
export const LABELS = {
  /** Present (value "1") on every container, volume and network the project creates. */
  managed: `${LABEL_PREFIX}.managed`,
  /** What the object is: "sandbox", "session-network", "template-builder", "test". */
  kind: `${LABEL_PREFIX}.kind`,
  /** The session (learner + lab) a sandbox belongs to. */
  session: `${LABEL_PREFIX}.session`,
  /** 1-based terminal/node index within the session. */
  node: `${LABEL_PREFIX}.node`,
  /** Epoch milliseconds after which the reaper may destroy it. */
  expiresAt: `${LABEL_PREFIX}.expires-at`,
  /** Identifies which server instance (data dir) owns it. */
  owner: `${LABEL_PREFIX}.owner`,
} as const;

export interface SandboxLimits {
  /** Hard memory limit for the whole sandbox, inner containers included. */
  memoryMiB: number;
  /** Max processes in the sandbox, inner containers included (fork-bomb guard). */
  pids: number;
  /** Relative CPU weight (Docker's --cpu-shares, default 1024). */
  cpuShares: number;
  /** Size cap of the inner engine's data-root (/var/lib/docker) in GiB. */
  diskGiB: number;
}

export interface SandboxSpec {
  sessionId: string;
  /** 1..6: the sandbox's hostname is `node${node}`. */
  node: number;
  /** Images the inner engine starts with (preloaded from a template), e.g. ["golang:1.19", "busybox"]. */
  images: string[];
  /** Host folder whose files are copied into the shell's starting working directory. */
  assetsDir?: string;
  /** Name of the per-session network, from createSessionNetwork(). */
  network?: string;
  limits: SandboxLimits;
  /** Epoch ms; the reaper destroys the sandbox after this. */
  expiresAt: number;
  /** Learner-facing progress of slow one-time work (fetching a lab image, building its template). */
  onProgress?: (message: string) => void;
  /**
   * Made ahead for the warm pool: it runs at the lowest CPU weight (BACKGROUND_CPU_SHARES), so its
   * inner engine's start and its idle loops yield to learners, until setCpuShares() gives it the
   * limits' weight when a learner takes it.
   */
  background?: boolean;
}

/** Docker's lowest cpu shares (cgroup v2 weight 1): what a pooled sandbox runs at until it is taken. */
export const BACKGROUND_CPU_SHARES = 2;

export interface SandboxRef {
  /** Our id for the sandbox (also used in the container name and the host directory). */
  id: string;
  containerId: string;
  /** Container name on the host engine. */
  name: string;
  sessionId: string;
  node: number;
  /** Host directory bind-mounted into the sandbox; holds the unix sockets. */
  socketDir: string;
  /** Host path of the inner engine's unix socket. */
  engineSocket: string;
  /** Host path of the shell's dtach socket (the terminal). */
  terminalSocket: string;
  /** The shell's starting working directory inside the sandbox. */
  workdir: string;
  expiresAt: number;
  /** The engine it runs on (an id from ENGINES); absent when there is only the one engine. */
  engine?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when the command was killed because it passed its time limit. */
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Bytes written to the command's stdin, then closed. */
  stdin?: string | Buffer;
  /** Output beyond this many bytes (per stream) is dropped; default 1 MiB. */
  maxOutputBytes?: number;
  workdir?: string;
  env?: string[];
  /**
   * Run in the learner's world, its mounts included (the shell). Default: the container's own mount
   * table with the trusted tools first on PATH, which a learner's mounts cannot hide or fake.
   */
  world?: boolean;
}

export interface SandboxStatus {
  running: boolean;
  /** Present when the container has stopped. */
  exitCode?: number;
  /** Memory in use (bytes), when running. */
  memoryBytes?: number;
  oomKilled?: boolean;
}

export interface SandboxDriver {
  /** Creates and starts a sandbox with its preloaded images; returns once the container runs. */
  create(spec: SandboxSpec): Promise<SandboxRef>;
  /** Sets a running sandbox's CPU weight (Docker cpu shares) where the limits live: a pooled one taken by a learner. */
  setCpuShares?(ref: SandboxRef, shares: number): Promise<void>;
  /** Resolves once the inner engine answers and lists every image in `images`. */
  waitReady(ref: SandboxRef, opts?: { timeoutMs?: number; images?: string[] }): Promise<void>;
  /** Runs a command inside the sandbox (not in an inner container) and collects its output. */
  exec(ref: SandboxRef, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Makes sure the learner's shell (a dtach master at ref.terminalSocket) is running; starts a new one if it exited. */
  ensureShell(ref: SandboxRef): Promise<void>;
  /** A client for the sandbox's own inner Docker engine. */
  engine(ref: SandboxRef): EngineClient;
  /**
   * A byte stream to a TCP port inside the sandbox (e.g. one an inner container publishes), carried
   * by an exec through the host engine's API: no container IP is ever dialled. Ends when either side closes.
   */
  connectPort(ref: SandboxRef, port: number): Promise<import('node:stream').Duplex>;
  status(ref: SandboxRef): Promise<SandboxStatus | null>;
  /** Every sandbox on the host engine that this project created (by label). */
  list(): Promise<SandboxRef[]>;
  /** Removes the container, its data-root, its socket directory and any mounts. Idempotent. */
  destroy(ref: SandboxRef): Promise<void>;
  /** Destroys sandboxes that are expired or whose session `isLive` says is gone. Returns the ids reaped. */
  reap(opts: { now: number; isLive: (sessionId: string) => boolean }): Promise<string[]>;
  /** A private network for one session's sandboxes (so node1 can reach node2 by name, and no one else). */
  createSessionNetwork(sessionId: string): Promise<string>;
  /**
   * Copies a host folder's files into the shell's working directory of a sandbox no learner has used
   * yet (a pooled one), without going through the engine. Refuses to write through a symlink.
   */
  copyFiles?(ref: SandboxRef, hostDir: string): Promise<void>;
  /** Connects a running sandbox to a network under a name other sandboxes there resolve (e.g. "node2"). */
  joinNetwork?(ref: SandboxRef, network: string, alias: string): Promise<void>;
  /** Disconnects a running sandbox from a network. Idempotent. */
  leaveNetwork?(ref: SandboxRef, network: string): Promise<void>;
  /** Builds (or finds) the preloaded-image template for this image set ahead of the first create. */
  prepareImages?(images: string[]): Promise<void>;
  removeSessionNetwork(sessionId: string): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Moving files in and out of a sandbox through the host engine's archive API (never a container IP).
 * Paths are as the sandbox sees them; confining them (to /root) is the caller's job.
 */
export interface SandboxArchive {
  /** A tar stream of `path` (a file or a folder). */
  getArchive(ref: SandboxRef, path: string): Promise<import('node:stream').Readable>;
  /** Unpacks a tar stream into the existing folder `dir`. */
  putArchive(ref: SandboxRef, dir: string, tar: import('node:stream').Readable): Promise<void>;
}

// ---- the inner engine -------------------------------------------------------------------------

export interface ImageConfig {
  entrypoint: string[] | null;
  cmd: string[] | null;
  workdir: string;
  env: string[];
  /** e.g. ["8080/tcp"] */
  exposedPorts: string[];
  labels: Record<string, string>;
  user: string;
  /** HEALTHCHECK test, e.g. ["CMD-SHELL", "redis-cli ping"]; null when none (["NONE"] when disabled). */
  healthcheck?: string[] | null;
  /** STOPSIGNAL, '' when not set. */
  stopSignal?: string;
  /** VOLUME paths. */
  volumes?: string[];
}

export interface ImageHistoryEntry {
  createdBy: string;
  sizeBytes: number;
  emptyLayer: boolean;
}

export interface ImageInfo {
  id: string;
  /** "repo:tag" names pointing at this image. */
  tags: string[];
  sizeBytes: number;
  /** RootFS layer diff ids, base first. */
  layers: string[];
  created: string;
  config: ImageConfig;
  history: ImageHistoryEntry[];
  /** "linux/amd64" (with "/variant" when the image has one). */
  platform?: string;
}

export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  image: string;
  state: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  exitCode: number | null;
  /** Published ports. */
  ports: { containerPort: number; protocol: string; hostPort: number | null }[];
  /** Container labels (Compose marks its containers with com.docker.compose.*). */
  labels?: Record<string, string>;
  /** Names of the networks it is attached to. */
  networks?: string[];
  /** The fields below come from inspect (container()), not from the list (containers()). */
  health?: 'healthy' | 'unhealthy' | 'starting' | null;
  mounts?: ContainerMount[];
  restartPolicy?: string;
  env?: string[];
  user?: string;
}

export interface ContainerMount {
  type: 'volume' | 'bind' | 'tmpfs' | string;
  /** Volume name for volumes, host path for binds. */
  source: string;
  destination: string;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  labels: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  scope: string;
  attachable: boolean;
  /** Names of the containers attached on this engine. */
  containers: string[];
  labels: Record<string, string>;
}

/** What this engine says about its own swarm membership (docker info). */
export interface SwarmSelf {
  /** "inactive", "pending", "active", "error", "locked". */
  state: string;
  nodeId: string;
  /** Whether this node is a manager (can answer node and service questions). */
  manager: boolean;
  nodes: number;
}

export interface SwarmNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  availability: 'active' | 'pause' | 'drain';
  /** "ready", "down", ... */
  status: string;
}

export interface ServiceInfo {
  id: string;
  name: string;
  /** The image as asked, without the digest the manager may pin. */
  image: string;
  mode: 'replicated' | 'global';
  /** Desired replicas (replicated mode). */
  desired: number | null;
  /** Tasks in state "running" now. */
  running: number;
  ports: { published: number; target: number; protocol: string }[];
  labels: Record<string, string>;
}

export interface EngineEvent {
  /** "image", "container", "builder", ... */
  type: string;
  /** "tag", "build", "start", "die", "destroy", "delete", ... */
  action: string;
  /** Image name, container id, ... */
  subject: string;
  attributes: Record<string, string>;
  time: number;
}

export interface EngineClient {
  ping(): Promise<boolean>;
  /** null when no such image. */
  image(ref: string): Promise<ImageInfo | null>;
  /** Every tagged "repo:tag" name. */
  imageTags(): Promise<string[]>;
  /** null when no such container (by name or id). */
  container(nameOrId: string): Promise<ContainerInfo | null>;
  containers(): Promise<ContainerInfo[]>;
  /** The last `tailBytes` of a container's stdout+stderr. */
  containerLogs(nameOrId: string, tailBytes?: number): Promise<string>;
  /** Whether `path` exists in the image's filesystem (works for FROM scratch images). */
  imageHasPath(ref: string, path: string): Promise<boolean>;
  /** null when no such volume. */
  volume(name: string): Promise<VolumeInfo | null>;
  /** null when no such network (by name or id). */
  network(nameOrId: string): Promise<NetworkInfo | null>;
  swarm(): Promise<SwarmSelf>;
  /** The swarm's nodes; null when this engine is not a swarm manager. */
  swarmNodes(): Promise<SwarmNode[] | null>;
  /** The swarm's services with their running task counts; null when this engine is not a swarm manager. */
  services(): Promise<ServiceInfo[] | null>;
  /** Follows the engine's events until the returned function is called. Reconnects are the caller's job. */
  events(onEvent: (e: EngineEvent) => void, onEnd: (err?: Error) => void): () => void;
}

// ---- the learner's shell through the engine API ---------------------------------------------

/**
 * A terminal attached to the learner's shell through the host engine's API (an exec with a TTY
 * running the sandbox's own dtach client), so it works wherever the engine is, local or remote.
 */
export interface ShellStream {
  /** Raw terminal bytes (UTF-8 may be split anywhere). */
  onData(fn: (chunk: Buffer) => void): void;
  /** The attach ended: its exit code, or null when the engine could not say. Called once. */
  onEnd(fn: (exitCode: number | null) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Stops reading: the engine, then dtach, then the shell's output wait (backpressure). */
  pause(): void;
  resume(): void;
  /** Ends this attach; the shell itself keeps running in its dtach master. */
  close(): Promise<void>;
}

export interface SandboxShell {
  /** Attaches to the shell's dtach master inside the sandbox, at this terminal size. */
  attachShell(ref: SandboxRef, cols: number, rows: number): Promise<ShellStream>;
  /**
   * ensureShell without touching the server's host: asks the dtach master inside the sandbox
   * whether it answers, and starts a new shell if not.
   */
  ensureShellInSandbox(ref: SandboxRef): Promise<void>;
}
