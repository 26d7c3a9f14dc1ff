// End-to-end harness: the real server as a child process, Debian's Chromium through playwright-core,
// and clean-up of every sandbox the run created.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');

export interface ServerProc {
  url: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGKILL: as if the host pulled the plug. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  labsDir?: string;
  dataDir: string;
  ownerId: string;
  port?: number;
  env?: Record<string, string>;
  /**
   * A session of its own (setsid), as a server started by a shell or systemd has: the kernel's
   * autogroups then weigh it apart from this process, so a benchmark's own work is not charged to it.
   */
  ownSession?: boolean;
}

export async function startServerProc(opts: ServerOptions): Promise<ServerProc> {
  // LABLAB_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server of a test or benchmark.
  const nodeArgs = (process.env.LABLAB_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, '--import', 'tsx', path.join(ROOT, 'server/main.ts'), '--port', String(opts.port ?? 0), '--host', '127.0.0.1', '--data', opts.dataDir, '--labs', opts.labsDir ?? path.join(ROOT, 'labs')];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LABLAB_OWNER: opts.ownerId, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownSession ?? false,
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  // LABLAB_E2E_SERVER_LOG=1 shows the server's own output while a test runs.
  if (process.env.LABLAB_E2E_SERVER_LOG) {
    proc.stdout!.pipe(process.stderr);
    proc.stderr!.pipe(process.stderr);
  }
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    url: url.replace('localhost', '127.0.0.1'),
    proc,
    output: () => out,
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

export async function newLabPage(browser: Browser, opts: { width?: number; height?: number } = {}): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
  return ctx.newPage();
}

/** What a person sees in terminal N: the rendered rows, as text. */
export async function termText(page: Page, term: number): Promise<string> {
  return page.locator(`[data-terminal="${term}"] .xterm-rows`).innerText().catch(() => '');
}

export async function waitForTermText(page: Page, term: number, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await termText(page, term);
    if (pattern.test(last)) return last;
    await page.waitForTimeout(200);
  }
  throw new Error(`terminal ${term} never showed ${pattern}; it shows:\n${last}`);
}

export async function typeInTerminal(page: Page, term: number, text: string): Promise<void> {
  await page.locator(`[data-terminal="${term}"] .xterm-helper-textarea`).focus();
  await page.keyboard.type(text);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      // something still mounted in it: the sandbox clean-up reports that on its own
    }
  }
});

/** A scratch folder removed when the test process exits. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `lablab-e2e-${prefix}-`));
  tempDirs.push(d);
  return d;
}

export function uniqueOwner(name: string): string {
  return `e2e-${name}-${process.pid}-${Date.now().toString(36)}`;
}
