// The process behind command-runner.ts: runs the commands the server asks for and answers with
// their output. It is small, so each fork(2) here copies a few MiB of page tables instead of the
// server's hundreds, and it blocks this process's loop, not the server's. Plain JavaScript on
// purpose: it starts in tens of milliseconds, with no TypeScript loader.
import { execFile } from 'node:child_process';

process.on('disconnect', () => process.exit(0));
// The server may be gone by the time a command ends (it was stopped while a refill ran iptables):
// with a callback, a send on a closed channel is an error passed here, not an uncaught 'error' event.
const reply = (m) => {
  if (!process.connected) return process.exit(0);
  process.send(m, (err) => err && process.exit(0));
};
process.on('message', (m) => {
  const { id, cmd, args, opts } = m;
  let child;
  try {
    child = execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: opts.maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      const spawnError = err && typeof err.code === 'string' ? `${err.code}: ${err.message}` : undefined;
      const overflow = err && err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' ? err.message : undefined;
      reply({ id, code, signal: err?.signal ?? null, stdout, stderr, timedOut: Boolean(err?.killed && err?.signal), error: spawnError ?? overflow });
    });
  } catch (err) {
    reply({ id, code: null, signal: null, stdout: '', stderr: '', timedOut: false, error: String(err?.message ?? err) });
    return;
  }
  child.stdin?.on('error', () => {}); // a command that exits without reading its input
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
});
