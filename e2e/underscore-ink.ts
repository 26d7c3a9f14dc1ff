// Reads the screen as a person would: is the ink of an underscore inside its terminal row?
// The row is screenshotted and decoded in the page itself (a canvas), so no image library is needed.
import type { Page } from 'playwright-core';

/** Bright pixels drawn in the cell of the first "_" of `text` on terminal `term`, within that row. */
export async function underscoreInk(page: Page, term: number, text: string): Promise<number> {
  const box = await page.evaluate(
    ({ term, text }) => {
      const rows = document.querySelectorAll(`[data-terminal="${term}"] .xterm-rows > div`);
      for (const row of rows) {
        if (!row.textContent?.includes(text)) continue;
        const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
        let consumed = 0;
        const at = row.textContent.indexOf(text) + text.indexOf('_');
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const len = n.textContent!.length;
          if (consumed + len > at) {
            const r = document.createRange();
            r.setStart(n, at - consumed);
            r.setEnd(n, at - consumed + 1);
            const c = r.getBoundingClientRect();
            const rr = row.getBoundingClientRect();
            return { x: c.left, width: c.width, y: rr.top, height: rr.height };
          }
          consumed += len;
        }
      }
      return null;
    },
    { term, text },
  );
  if (!box) throw new Error(`no row with "${text}" on terminal ${term}`);
  const png = await page.screenshot({ clip: { x: box.x + 1, y: box.y, width: Math.max(1, box.width - 2), height: box.height } });
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 300) ink++;
    return ink;
  }, png.toString('base64'));
}
