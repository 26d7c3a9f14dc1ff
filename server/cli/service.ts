// npm run service:install | service:uninstall [-- --root DIR]: the systemd unit for this checkout.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, parseArgs } from '../config.ts';
import { installService, systemdIsRunning, uninstallService } from '../service/install.ts';
import { UnitError } from '../service/unit.ts';

const run = promisify(execFile);
const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let a: Record<string, string>;
  try {
    a = parseArgs(rest, ['root'] as const);
  } catch (err) {
    if (err instanceof ConfigError) return usage(err.message);
    throw err;
  }
  if (action !== 'install' && action !== 'uninstall') return usage(`unknown action "${action ?? ''}"`);
  if (process.getuid?.() !== 0) {
    console.error('service: run as root (it writes /etc/systemd/system and /etc/lablab)');
    return 1;
  }
  const deps = {
    root: path.resolve(a['root'] ?? '/'),
    checkout,
    node: process.execPath,
    systemdRunning: systemdIsRunning(),
    run: async (cmd: string, args: string[]) => {
      await run(cmd, args);
    },
    say: (line: string) => console.log(`service: ${line}`),
  };
  try {
    await (action === 'install' ? installService(deps) : uninstallService(deps));
    return 0;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    console.error(`service ${action}: ${err instanceof UnitError ? e.message : `${e.message}${e.stderr ? `\n${e.stderr}` : ''}`}`);
    return 1;
  }
}

function usage(msg: string): number {
  console.error(`service: ${msg}\nusage: npm run service:install | npm run service:uninstall  [-- --root DIR]`);
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
