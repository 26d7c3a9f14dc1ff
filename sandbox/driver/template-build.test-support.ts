// A process that builds one template in a data dir, for tests that kill it or stop it mid-build:
//   node --import tsx sandbox/driver/template-build.test-support.ts <dataDir> <owner> <image>…
// Prints "built" when done and then stays (holding its presence in the data dir) until signalled.
// SIGTERM stops as a server does: its template builds stopped, its mounts released.
import { createDockerSandboxDriver } from './docker-driver.ts';
import { stopTemplateBuilds } from './templates.ts';

const [dataDir, owner, ...images] = process.argv.slice(2);
const driver = createDockerSandboxDriver({ dataDir: dataDir!, ownerId: owner!, log: (m) => console.log(m) });
process.on('SIGTERM', () => {
  void stopTemplateBuilds()
    .then(() => driver.dispose())
    .finally(() => process.exit(0));
});
driver.prepareImages!(images).then(
  () => {
    console.log('built');
    setInterval(() => {}, 60_000);
  },
  (err) => {
    console.log(`build failed: ${(err as Error).message}`);
    setInterval(() => {}, 60_000);
  },
);
