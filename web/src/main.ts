import '@xterm/xterm/css/xterm.css';
import './styles.css';
import './files.css';
import './access.css';
import './play.css';
import { startLabPage } from './lab-page.ts';
import { showToast } from './toast.ts';
import { initFilesPane } from './files-pane.ts';
import { initPortsList } from './ports-list.ts';
import { startHostEventPage } from './host-page.ts';
import { startWorkshopLearner } from './workshop-learner.ts';
import { startPlayPage } from './play-page.ts';
import type { LabBoot } from '../../server/protocol/realtime.ts';
import { startAccessPanel } from './access-panel.ts';
import { startGuestPage } from './guest-page.ts';

if (document.body.dataset.page === 'lab') {
  startLabPage();
  const boot = JSON.parse(document.getElementById('boot')!.textContent!) as LabBoot;
  initFilesPane(boot, (m, level = 'warn') => showToast(m, level));
  initPortsList(boot, (node, port) => `/labs/${encodeURIComponent(boot.labId)}/port/${node}/${port}/`);
  startWorkshopLearner(boot.labId);
  startAccessPanel();
}
if (document.body.dataset.page === 'host-event') startHostEventPage();
if (document.body.dataset.page === 'share-guest') startGuestPage();
if (document.body.dataset.page === 'play') {
  startPlayPage();
  startAccessPanel();
}
