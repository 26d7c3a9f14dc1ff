// A SessionPort over plain objects, for the access and ssh tests: sessions with nodes whose terminals
// record what they are given. No sandbox, no session manager.
import type { Viewer } from '../terminals/terminal.ts';
import type { ExecResult } from '../../sandbox/driver/types.ts';
import type { SessionInfo, SessionPort, SharedTerminal } from './session-port.ts';

export class FakeTerminal implements SharedTerminal {
  readonly viewers = new Map<string, Viewer>();
  readonly inputs: string[] = [];
  readonly sizes: [number, number][] = [];
  acked = 0;
  constructor(private readonly scrollback = 'earlier output\r\n[node1] /root $ ') {}
  addViewer(v: Viewer): void {
    this.viewers.set(v.id, v);
    v.replay(this.scrollback);
    v.state('ready');
  }
  removeViewer(id: string): void {
    this.viewers.delete(id);
  }
  input(data: string): void {
    this.inputs.push(data);
  }
  resize(cols: number, rows: number): void {
    this.sizes.push([cols, rows]);
  }
  ack(_id: string, chars: number): void {
    this.acked += chars;
  }
  /** Output from the shell, to every viewer. */
  output(data: string): void {
    for (const v of this.viewers.values()) v.data(data);
  }
  typed(): string {
    return this.inputs.join('');
  }
}

export class FakeSessions implements SessionPort {
  readonly live = new Map<string, { info: SessionInfo; terminals: Map<number, FakeTerminal> }>();
  private readonly watchers = new Map<string, Set<(i: SessionInfo | undefined) => void>>();

  add(id: string, ownerId: string, nodes = [1]): Map<number, FakeTerminal> {
    const terminals = new Map(nodes.map((n) => [n, new FakeTerminal()] as const));
    this.live.set(id, { info: { id, ownerId, title: `Lab of ${ownerId}`, phase: 'ready', nodes }, terminals });
    return terminals;
  }
  end(id: string): void {
    this.live.delete(id);
    for (const fn of [...(this.watchers.get(id) ?? [])]) fn(undefined);
  }
  info(id: string): SessionInfo | undefined {
    const s = this.live.get(id);
    return s ? { ...s.info, nodes: [...s.info.nodes] } : undefined;
  }
  terminal(id: string, node: number): FakeTerminal | undefined {
    return this.live.get(id)?.terminals.get(node);
  }
  watch(id: string, fn: (i: SessionInfo | undefined) => void): () => void {
    if (!this.live.has(id)) return () => {};
    const set = this.watchers.get(id) ?? new Set();
    set.add(fn);
    this.watchers.set(id, set);
    return () => set.delete(fn);
  }
  /** Commands run through exec, as [session, node, command]. */
  readonly commands: [string, number, string][] = [];
  async exec(id: string, node: number, command: string): Promise<ExecResult> {
    if (!this.terminal(id, node)) throw new Error('no such node');
    this.commands.push([id, node, command]);
    return { exitCode: command.startsWith('false') ? 1 : 0, stdout: `ran: ${command}\n`, stderr: '', timedOut: false };
  }
  watcherCount(id: string): number {
    return this.watchers.get(id)?.size ?? 0;
  }
}
