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
}

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
  /** Follows the engine's events until the returned function is called. Reconnects are the caller's job. */
  events(onEvent: (e: EngineEvent) => void, onEnd: (err?: Error) => void): () => void;
}
