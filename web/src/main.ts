import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { startLabPage } from './lab-page.ts';

if (document.body.dataset.page === 'lab') startLabPage();
