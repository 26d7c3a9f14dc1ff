// Hand-written fakes for the check tests: an EngineClient holding images and containers shaped like the
// inner engine's answers, and a sandbox exec that knows a few files and commands.
import type {
  ContainerInfo, EngineClient, EngineEvent, ExecResult, ImageHistoryEntry, ImageInfo, NetworkInfo, ServiceInfo, SwarmNode, SwarmSelf, VolumeInfo,
} from '../../sandbox/driver/types.ts';
import type { CheckContext } from './evaluate.ts';

const sha = (seed: string): string => 'sha256:' + Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64);

export function image(p: { name: string; layers: string[]; history: [string, number][]; sizeBytes: number; config?: Partial<ImageInfo['config']> }): ImageInfo {
  const history: ImageHistoryEntry[] = p.history.map(([createdBy, sizeBytes]) => ({ createdBy, sizeBytes, emptyLayer: sizeBytes < 0 }))
    .map((h) => (h.sizeBytes < 0 ? { ...h, sizeBytes: 0 } : h));
  return {
    id: sha('img:' + p.name + p.layers.join()),
    tags: [p.name],
    sizeBytes: p.sizeBytes,
    layers: p.layers.map((l) => sha('layer:' + l)),
    created: '2026-03-01T10:00:00Z',
    config: { entrypoint: null, cmd: null, workdir: '', env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], exposedPorts: [], labels: {}, user: '', ...p.config },
    history,
  };
}

/** -1 marks an empty-layer (metadata) history entry. */
const E = -1;

// The offline stand-ins from DESIGN.md: debian imported from debootstrap, golang built on it with apt.
export const debian = image({
  name: 'debian:bookworm-slim', sizeBytes: 117_300_000, layers: ['debian-rootfs'],
  history: [['', 117_300_000]], config: { cmd: ['bash'] },
});

const golangHistory: [string, number][] = [
  ...debian.history.map((h): [string, number] => [h.createdBy, h.sizeBytes]),
  ['/bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl netbase && rm -rf /var/lib/apt/lists/*', 22_000_000],
  ['/bin/sh -c apt-get update && apt-get install -y --no-install-recommends git openssh-client procps && rm -rf /var/lib/apt/lists/*', 58_000_000],
  ['/bin/sh -c apt-get update && apt-get install -y --no-install-recommends g++ gcc libc6-dev make pkg-config && rm -rf /var/lib/apt/lists/*', 183_000_000],
  ['/bin/sh -c apt-get update && apt-get install -y --no-install-recommends golang-go && rm -rf /var/lib/apt/lists/*', 486_000_000],
  ['/bin/sh -c #(nop)  ENV GOPATH=/go', E],
  ['/bin/sh -c #(nop)  ENV PATH=/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', E],
  ['/bin/sh -c mkdir -p "$GOPATH/src" "$GOPATH/bin" && chmod -R 777 "$GOPATH"', 0],
  ['/bin/sh -c #(nop) WORKDIR /go', 0],
];
export const golang = image({
  name: 'golang:1.19', sizeBytes: 866_700_000,
  layers: ['debian-rootfs', 'go-certs', 'go-git', 'go-gcc', 'go-golang', 'go-mkdir', 'go-workdir'],
  history: golangHistory, config: { workdir: '/go', env: ['PATH=/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GOPATH=/go'] },
});

export const busybox = image({
  name: 'busybox:latest', sizeBytes: 1_985_472, layers: ['busybox-bin', 'busybox-links'],
  history: [
    ['/bin/sh -c #(nop) COPY file:73e2b2d48642b21b357384b0cb81c1869cc5e0c48a00f61553756196058304b9 in /bin/busybox ', 1_982_000],
    ['/bin/busybox --install -s /bin', 3_220],
    ['/bin/sh -c #(nop)  CMD ["sh"]', E],
  ],
  config: { cmd: ['sh'] },
});

/** The lab's multi-stage Dockerfile. */
export const MULTI_STAGE_DOCKERFILE = `# syntax=docker/dockerfile:1
FROM golang:1.19 AS build
WORKDIR /src
COPY welcome.go .
RUN CGO_ENABLED=0 go build \\
    -o /out/welcome welcome.go

FROM scratch
COPY --from=build /out/welcome /welcome
CMD ["/welcome"]
`;

const buildStageHistory: [string, number][] = [
  ['/bin/sh -c #(nop) WORKDIR /src', 0],
  ['/bin/sh -c #(nop) COPY file:6abf7cae748c9371a6df7e65d74ed16d91a230a37250724294fe350e05d834a9 in . ', 160],
  ['/bin/sh -c CGO_ENABLED=0 go build     -o /out/welcome welcome.go', 1_812_000],
];

/** docker build --target build -t welcome-builder:v1 . (classic builder) */
export const builderStage = image({
  name: 'welcome-builder:v1', sizeBytes: 868_700_000,
  layers: [...['debian-rootfs', 'go-certs', 'go-git', 'go-gcc', 'go-golang', 'go-mkdir', 'go-workdir'], 'b-workdir', 'b-copy', 'b-run'],
  history: [...golangHistory, ...buildStageHistory], config: { workdir: '/src' },
});

/** docker build -t welcome-optimized:v1 . (the whole multi-stage file) */
export const optimized = image({
  name: 'welcome-optimized:v1', sizeBytes: 1_812_000, layers: ['o-copy'],
  history: [
    ['/bin/sh -c #(nop) COPY file:d7f2fb764691ffa3a79e3fe18dea2043370868ed0780d9d67d72b00780da69da in /welcome ', 1_812_000],
    ['/bin/sh -c #(nop)  CMD ["/welcome"]', E],
  ],
  config: { cmd: ['/welcome'] },
});

/** The normal build: one stage FROM golang:1.19, 805 MB-class. */
export const normal = image({
  name: 'welcome:v1', sizeBytes: 805_400_000,
  layers: ['debian-rootfs', 'go-certs', 'go-git', 'go-gcc', 'go-golang', 'go-mkdir', 'go-workdir', 'n-workdir', 'n-copy', 'n-run'],
  history: [...golangHistory, ...buildStageHistory, ['/bin/sh -c #(nop)  CMD ["/out/welcome"]', E]],
  config: { ...golang.config, cmd: ['/out/welcome'], workdir: '/src', exposedPorts: ['8080/tcp'], labels: { 'org.example.lab': 'welcome' } },
});

export interface FakeEngine extends EngineClient {
  images: Map<string, ImageInfo>;
  containerMap: Map<string, ContainerInfo>;
  logs: Map<string, string>;
  paths: Map<string, Set<string>>;
  /** Calls made, for assertions about sharing lookups. */
  calls: string[];
  /** When set, every call waits for this promise first (a hung engine). */
  hang?: Promise<never>;
  /** When set, calls throw this. */
  fail?: Error;
  volumes: Map<string, VolumeInfo>;
  networks: Map<string, NetworkInfo>;
  swarmSelf: SwarmSelf;
  /** null: this engine is not a manager. */
  nodes: SwarmNode[] | null;
  serviceList: ServiceInfo[] | null;
  /** Event subscribers (the watcher's). */
  listeners: { onEvent: (e: EngineEvent) => void; onEnd: (err?: Error) => void; stopped: boolean }[];
}

export function fakeEngine(imgs: ImageInfo[] = [], ctrs: ContainerInfo[] = []): FakeEngine {
  const eng: FakeEngine = {
    images: new Map(), containerMap: new Map(), logs: new Map(), paths: new Map(), calls: [], listeners: [],
    volumes: new Map(), networks: new Map(), swarmSelf: { state: 'inactive', nodeId: '', manager: false, nodes: 0 }, nodes: null, serviceList: null,
    async volume(name) { eng.calls.push(`volume ${name}`); await guard(); return eng.volumes.get(name) ?? null; },
    async network(name) { eng.calls.push(`network ${name}`); await guard(); return eng.networks.get(name) ?? null; },
    async swarm() { await guard(); return eng.swarmSelf; },
    async swarmNodes() { await guard(); return eng.nodes; },
    async services() { await guard(); return eng.serviceList; },
    async ping() { return true; },
    async image(ref) {
      eng.calls.push(`image ${ref}`);
      await guard();
      const withTag = ref.includes(':') || ref.startsWith('sha256') ? ref : `${ref}:latest`;
      return eng.images.get(withTag) ?? [...eng.images.values()].find((i) => i.id === ref) ?? null;
    },
    async imageTags() {
      eng.calls.push('imageTags');
      await guard();
      return [...eng.images.keys()];
    },
    async container(ref) {
      eng.calls.push(`container ${ref}`);
      await guard();
      return eng.containerMap.get(ref) ?? [...eng.containerMap.values()].find((c) => c.id.startsWith(ref)) ?? null;
    },
    async containers() { await guard(); return [...eng.containerMap.values()]; },
    async containerLogs(ref) { await guard(); return eng.logs.get(ref) ?? ''; },
    async imageHasPath(ref, p) { await guard(); return eng.paths.get(ref)?.has(p) ?? false; },
    events(onEvent, onEnd) {
      const l = { onEvent, onEnd, stopped: false };
      eng.listeners.push(l);
      return () => { l.stopped = true; };
    },
  };
  async function guard(): Promise<void> {
    if (eng.hang) await eng.hang;
    if (eng.fail) throw eng.fail;
  }
  for (const i of imgs) for (const t of i.tags) eng.images.set(t, i);
  for (const c of ctrs) eng.containerMap.set(c.name, c);
  return eng;
}

export function container(p: Partial<ContainerInfo> & { name: string }): ContainerInfo {
  return { id: Buffer.from(p.name).toString('hex').padEnd(64, 'a'), image: 'welcome:v1', state: 'running', exitCode: null, ports: [], ...p };
}

export interface FakeSandbox {
  files: Map<string, string>;
  /** Folders (for "not a file"). */
  dirs: Set<string>;
  /** Command text -> result, or a function of it. */
  commands: Map<string, ExecResult | 'hang'>;
  execs: string[][];
}

export const WORKDIR = '/root';

export function fakeContext(engine: EngineClient, sb: Partial<FakeSandbox> = {}): CheckContext & { sandbox: FakeSandbox } {
  const sandbox: FakeSandbox = { files: new Map(), dirs: new Set(), commands: new Map(), execs: [], ...sb };
  const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
  const code = (exitCode: number, stderr = ''): ExecResult => ({ exitCode, stdout: '', stderr, timedOut: false });
  return {
    engine,
    workdir: WORKDIR,
    now: () => Date.now(),
    sandbox,
    async exec(cmd, opts) {
      sandbox.execs.push(cmd);
      if (cmd[0] === 'test' && cmd[1] === '-e') return sandbox.files.has(cmd[2]!) || sandbox.dirs.has(cmd[2]!) ? ok() : code(1);
      if (cmd[0] === 'sh' && cmd[3] === 'read') {
        const f = cmd[4]!;
        if (sandbox.dirs.has(f)) return code(3);
        const text = sandbox.files.get(f);
        return text === undefined ? code(2) : ok(text.slice(0, Number(cmd[5])));
      }
      if (cmd[0] === '/.lablab/bin/env' && cmd.includes('--norc')) {
        const script = cmd.at(-1)!;
        const r = sandbox.commands.get(script);
        if (r === 'hang') {
          await new Promise((res) => setTimeout(res, opts?.timeoutMs ?? 1000));
          return { exitCode: 137, stdout: '', stderr: '', timedOut: true };
        }
        return r ?? code(127, `bash: ${script}: command not found`);
      }
      return code(127, `unexpected exec ${cmd.join(' ')}`);
    },
  };
}
