// How the host's kernel preempts: whether a shell woken by a keystroke can take a CPU from a task
// that is running in the kernel (a container start copying mount tables, a layer diff walking
// overlayfs), or must wait until that task returns. On a busy host this decides the echo's tail
// (see the README's "Measured"). Read from the kernel command line, the scheduler's debugfs file
// where it is readable, and the kernel's build configuration.
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';

export type PreemptMode = 'none' | 'voluntary' | 'full' | 'lazy' | 'rt';

export interface KernelPreempt {
  mode: PreemptMode | 'unknown';
  /** Where the mode was read: the command line, debugfs, or the build's default. */
  source: 'cmdline' | 'debugfs' | 'config' | 'none';
  /** The kernel can change mode at boot (`preempt=` on the command line). */
  dynamic: boolean;
}

const MODES: PreemptMode[] = ['none', 'voluntary', 'full', 'lazy', 'rt'];

/** `preempt=full` and the like on the kernel command line. */
export function preemptFromCmdline(cmdline: string): PreemptMode | undefined {
  const m = /(?:^|\s)preempt=(\w+)/.exec(cmdline);
  return m && (MODES as string[]).includes(m[1]!) ? (m[1] as PreemptMode) : undefined;
}

/** /sys/kernel/debug/sched/preempt: "none (voluntary) full lazy", the current one in parentheses. */
export function preemptFromDebugfs(text: string): PreemptMode | undefined {
  const m = /\((\w+)\)/.exec(text);
  return m && (MODES as string[]).includes(m[1]!) ? (m[1] as PreemptMode) : undefined;
}

/** The build's default mode and whether it is dynamic, from a kernel .config. */
export function preemptFromConfig(config: string): { mode: PreemptMode; dynamic: boolean } | undefined {
  const on = (k: string) => new RegExp(`^CONFIG_${k}=y$`, 'm').test(config);
  const dynamic = on('PREEMPT_DYNAMIC');
  if (on('PREEMPT_RT')) return { mode: 'rt', dynamic };
  if (on('PREEMPT_LAZY')) return { mode: 'lazy', dynamic };
  if (on('PREEMPT')) return { mode: 'full', dynamic };
  if (on('PREEMPT_VOLUNTARY')) return { mode: 'voluntary', dynamic };
  if (on('PREEMPT_NONE')) return { mode: 'none', dynamic };
  return undefined;
}

function read(file: string): string | undefined {
  try {
    const buf = fs.readFileSync(file);
    return file.endsWith('.gz') ? zlib.gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  } catch {
    return undefined;
  }
}

/** This host's preemption mode, from what it exposes (files are parameters so tests can point elsewhere). */
export function kernelPreempt(files = {
  cmdline: '/proc/cmdline',
  debugfs: '/sys/kernel/debug/sched/preempt',
  configs: ['/proc/config.gz', `/boot/config-${os.release()}`],
}): KernelPreempt {
  const config = files.configs.map(read).find((c) => c !== undefined);
  const built = config ? preemptFromConfig(config) : undefined;
  const dynamic = built?.dynamic ?? false;
  const fromCmdline = preemptFromCmdline(read(files.cmdline) ?? '');
  if (fromCmdline) return { mode: fromCmdline, source: 'cmdline', dynamic };
  const fromDebugfs = preemptFromDebugfs(read(files.debugfs) ?? '');
  if (fromDebugfs) return { mode: fromDebugfs, source: 'debugfs', dynamic };
  if (built) return { mode: built.mode, source: 'config', dynamic };
  return { mode: 'unknown', source: 'none', dynamic: false };
}

/** The start-up line about it, with what a host can do where it matters. */
export function preemptLine(k: KernelPreempt): string {
  const how = k.source === 'cmdline' ? 'set on the kernel command line' : k.source === 'debugfs' ? 'as the scheduler reports it' : k.source === 'config' ? "the kernel build's default" : 'not found';
  const head = `kernel preemption: ${k.mode} (${how}${k.dynamic ? ', changeable at boot' : ''})`;
  if (k.mode === 'none' || k.mode === 'voluntary') {
    const fix = k.dynamic ? 'preempt=full on the kernel command line lets it preempt them' : 'a kernel built with full preemption lets it preempt them';
    return `${head}: on a busy host a woken shell waits for other tasks' long kernel work (a container start, a layer diff); ${fix}`;
  }
  return head;
}
