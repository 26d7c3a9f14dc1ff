import '@xterm/xterm/css/xterm.css';
import './styles.css';
import './files.css';
import { startLabPage } from './lab-page.ts';

if (document.body.dataset.page === 'lab') startLabPage();
