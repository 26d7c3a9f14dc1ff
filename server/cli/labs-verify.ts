// npm run labs:verify [lab-id…] [--negative]: types every lab's blocks into fresh sandboxes and evaluates
// each step's checks (see server/autopilot). Process glue only: argv, env, the real adapters, signals.
import { createDockerSandboxDriver } from '../../sandbox/driver/index.ts';
import { loadLabs } from '../labs/load.ts';
import { attachDtachSocket } from '../terminals/dtach-socket.ts';
import { parseVerifyArgs, USAGE, UsageError } from '../autopilot/args.ts';
import { startVerify } from '../autopilot/run.ts';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseVerifyArgs(process.argv.slice(2), process.env, process.cwd());
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`labs:verify: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    console.log(USAGE);
    return 0;
  }
  const verbose = opts.verbose;
  const driver = createDockerSandboxDriver({
    dataDir: opts.dataDir,
    sandboxImage: process.env.SANDBOX_IMAGE || undefined,
    // Unique per process: the ledger's leftover sweep removes everything with this owner, and nothing else.
    ownerId: `verify-${process.pid}`,
    log: (msg, err) => {
      // Template builds are the one slow thing worth mentioning unasked.
      if (verbose || /template|fail|could not/i.test(msg)) console.error(`driver: ${msg}${err ? `: ${(err as Error).message ?? String(err)}` : ''}`);
    },
  });
  const run = startVerify(opts, {
    driver,
    loadLabs,
    spawnPty: attachDtachSocket,
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    now: Date.now,
  });
  let interrupted = false;
  const onSignal = (sig: string) => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop waiting for the clean-up
    interrupted = true;
    console.error(`labs:verify: ${sig}: removing this run's sandboxes (Ctrl-C again to quit at once)`);
    void run.abort().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  try {
    return await run.done;
  } finally {
    await driver.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`labs:verify: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
