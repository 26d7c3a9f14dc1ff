// npm run event:create -- --name "DevConf" --labs 03-multi-stage --start 2026-05-04T09:00Z --end +3h --expected 40 [--capacity 50]
// Scripted set-up of a workshop event: validated against the labs folder, written to the server's
// database (a running server sees it at once and pre-warms for it), join link and code printed.
import path from 'node:path';
import { ConfigError, defaultDataDir, parseArgs } from '../config.ts';
import { AppError } from '../errors.ts';
import { loadLabs } from '../labs/load.ts';
import { parseEventInput } from '../workshop/event-rules.ts';
import { openEventStore } from '../workshop/event-store.ts';

const FLAGS = ['name', 'labs', 'start', 'end', 'expected', 'capacity', 'labs-dir', 'data', 'url'] as const;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let a: Record<string, string>;
  try {
    a = parseArgs(argv, FLAGS);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`event:create: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const cwd = process.cwd();
  const labsDir = path.resolve(cwd, a['labs-dir'] ?? env.LABS_DIR ?? 'labs');
  const dataDir = a['data'] ?? env.DATA_DIR ? path.resolve(cwd, (a['data'] ?? env.DATA_DIR)!) : defaultDataDir(cwd);
  const dbFile = env.DB_FILE ? path.resolve(cwd, env.DB_FILE) : path.join(dataDir, 'lablab.sqlite');
  const { labs } = await loadLabs(labsDir);
  const runnable = new Set(labs.filter((l) => l.problems.length === 0).map((l) => l.id));
  // The server's own store: PostgreSQL when replicas share DATABASE_URL, else the SQLite file.
  const store = await openEventStore(env.DATABASE_URL || dbFile);
  try {
    const input = parseEventInput({ name: a['name'], labs: a['labs'], start: a['start'], end: a['end'], expected: a['expected'], capacity: a['capacity'] }, (id) => runnable.has(id), Date.now());
    const ev = await store.createEvent(input, Date.now());
    const base = (a['url'] ?? env.PUBLIC_URL ?? `http://localhost:${env.PORT ?? 8080}`).replace(/\/$/, '');
    console.log(`event "${ev.name}" created`);
    console.log(`  code:      ${ev.code}`);
    console.log(`  join link: ${base}/e/${ev.code}`);
    console.log(`  host view: ${base}/host/events/${ev.id}`);
    console.log(JSON.stringify({ id: ev.id, code: ev.code, joinUrl: `${base}/e/${ev.code}` }));
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`event:create: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2), process.env).then((code) => process.exit(code));
