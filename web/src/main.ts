import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { startLabPage } from './lab-page.ts';
import { startHostEventPage } from './host-page.ts';
import { startWorkshopLearner } from './workshop-learner.ts';

if (document.body.dataset.page === 'lab') {
  startLabPage();
  const boot = JSON.parse(document.getElementById('boot')!.textContent!) as { labId: string };
  startWorkshopLearner(boot.labId);
}
if (document.body.dataset.page === 'host-event') startHostEventPage();
