// A few bytes of inline script at the top of a lab page. A learner can see and click run blocks
// before the deferred app bundle has run; this remembers those clicks (and marks the blocks as
// queued) so the app can queue them when it starts. Allowed by its hash in the CSP, not by
// 'unsafe-inline'.
import crypto from 'node:crypto';

export const EARLY_CLICKS_SCRIPT =
  "(function(){var q=window.__lablabEarlyClicks=[];function h(e){if(window.__lablabAppReady)return;" +
  "var b=e.target&&e.target.closest&&e.target.closest('pre[data-term]');if(!b)return;" +
  "var id=b.getAttribute('data-block-id');if(q.indexOf(id)<0){q.push(id);b.setAttribute('data-run-state','queued');" +
  "b.setAttribute('data-queue-pos',String(q.length));}}document.addEventListener('click',h,true);})();";

export const EARLY_CLICKS_CSP_SOURCE = `'sha256-${crypto.createHash('sha256').update(EARLY_CLICKS_SCRIPT).digest('base64')}'`;
