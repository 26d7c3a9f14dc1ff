// The draggable divider between lab text and terminals. Terminals refit while dragging.
export function initSplitter(layout: HTMLElement, handle: HTMLElement, onResize: () => void): void {
  const saved = localStorage.getItem('lab-split');
  if (saved && /^\d+(\.\d+)?%$/.test(saved)) layout.style.setProperty('--split', saved);
  let dragging = false;
  const setFromX = (x: number) => {
    const r = layout.getBoundingClientRect();
    const pct = Math.min(75, Math.max(20, ((x - r.left) / r.width) * 100));
    const v = `${pct.toFixed(1)}%`;
    layout.style.setProperty('--split', v);
    localStorage.setItem('lab-split', v);
    onResize();
  };
  handle.addEventListener('pointerdown', (e) => {
    dragging = true;
    handle.setPointerCapture(e.pointerId);
    document.body.classList.add('dragging');
  });
  handle.addEventListener('pointermove', (e) => dragging && setFromX(e.clientX));
  const stop = () => {
    dragging = false;
    document.body.classList.remove('dragging');
  };
  handle.addEventListener('pointerup', stop);
  handle.addEventListener('pointercancel', stop);
  handle.addEventListener('keydown', (e) => {
    const cur = parseFloat(getComputedStyle(layout).getPropertyValue('--split')) || 44;
    const r = layout.getBoundingClientRect();
    if (e.key === 'ArrowLeft') setFromX(r.left + ((cur - 2) / 100) * r.width);
    if (e.key === 'ArrowRight') setFromX(r.left + ((cur + 2) / 100) * r.width);
  });
}
