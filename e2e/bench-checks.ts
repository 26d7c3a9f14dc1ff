// npm run bench:checks — how fast a learner sees a verdict, measured in the page itself:
//   build_to_tick: "Successfully tagged" appears in the terminal → the size check shows pass
//                  (no click; driven by the inner engine's events);
//   check_click:   the "Check" button of the build step → all its verdicts on screen.
// Several fresh learners (each their own sandbox) in one run; medians reported. No assertions.
import path from 'node:path';
import { launchBrowser, newLabPage, startServerProc, tempDir, uniqueOwner, waitForTermText, ROOT } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CLICKS = 10;
const DATA = defaultDataDir(ROOT);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  const owner = uniqueOwner('bench-checks');
  const server = await startServerProc({ dataDir: DATA, ownerId: owner, env: { DB_FILE: path.join(tempDir('bench-checks'), 'db.sqlite') } });
  const browser = await launchBrowser();
  const ticks: number[] = [];
  const clicks: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const page = await newLabPage(browser);
      await page.goto(`${server.url}/labs/03-multi-stage`);
      await page.waitForSelector('[data-term-state="1"][data-state="ready"]', { timeout: 120_000 });
      await waitForTermText(page, 1, /\[node1\] \/root \$/);
      const blocks = page.locator('pre[data-term="1"]');
      await blocks.nth(0).click();
      await blocks.nth(1).click();
      await waitForTermText(page, 1, /ENTRYPOINT \["\.\/welcome"\]\s*\n[^\n]*EOF/);
      // Watch, in the page's own clock, for the build's last line and for the tick.
      await page.evaluate(() => {
        const w = window as unknown as { __t: { tagged?: number; tick?: number } };
        w.__t = {};
        const size = [...document.querySelectorAll('li.check')].find((li) => li.textContent?.includes('under 20 MB'));
        new MutationObserver(() => {
          if (!w.__t.tagged && document.querySelector('[data-terminal="1"] .xterm-rows')?.textContent?.includes('Successfully tagged')) w.__t.tagged = performance.now();
          if (!w.__t.tick && size?.querySelector('[data-check-status="pass"]')) w.__t.tick = performance.now();
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      await blocks.nth(2).click();
      await page.waitForFunction(() => (window as unknown as { __t: { tick?: number } }).__t.tick, null, { timeout: 180_000, polling: 50 });
      const t = await page.evaluate(() => (window as unknown as { __t: { tagged: number; tick: number } }).__t);
      ticks.push(t.tick - t.tagged);

      const button = page.locator('section[data-step-id="s2"] .check-button');
      for (let k = 0; k < CLICKS; k++) {
        const ms = await page.evaluate(async () => {
          const b = document.querySelector<HTMLButtonElement>('section[data-step-id="s2"] .check-button')!;
          const t0 = performance.now();
          b.click();
          while (b.disabled || b.textContent !== 'Check') await new Promise((r) => setTimeout(r, 1));
          return performance.now() - t0;
        });
        clicks.push(ms);
      }
      await button.count();
      page.on('dialog', (d) => void d.accept());
      await page.locator('#session-end').click();
      await page.waitForSelector('.overlay[data-kind="ended"]', { timeout: 20_000 });
      await page.context().close();
      console.log(`run ${i + 1}: build → tick ${ticks.at(-1)!.toFixed(0)} ms; Check click p50 ${pct(clicks.slice(-CLICKS), 50).toFixed(1)} ms`);
    }
  } finally {
    await browser.close();
    await server.stop();
    await cleanupOwner(DATA, owner);
  }
  const result = {
    runs: RUNS,
    build_to_tick_p50_ms: Math.round(pct(ticks, 50)),
    build_to_tick_max_ms: Math.round(Math.max(...ticks)),
    step_check_click_p50_ms: +pct(clicks, 50).toFixed(1),
    step_check_click_p95_ms: +pct(clicks, 95).toFixed(1),
  };
  console.log('\ncheck latency, measured in the page (multi-stage lab, build step: 4 image checks)');
  for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(26)} ${v}`);
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
