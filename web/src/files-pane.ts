// The Files tab beside the terminals: a tree of the node's /root, the CodeMirror editor (loaded on
// first use), drag-and-drop upload onto the tree or a terminal, downloads, and a watch on the open
// file so a change made in the terminal is offered as a reload, never silently overwritten.
import type { LabBoot } from '../../server/protocol/realtime.ts';
import type { EditorHandle, EditorOptions } from './editor/codemirror.ts';
import { uploadDrop, type UploadDeps } from './upload.ts';

/** How often the open file's version is compared with the sandbox's (only while the tab shows). */
const WATCH_MS = 1500;

interface Api<T> {
  ok: boolean;
  value?: T;
  error?: { code: string; message: string };
}
interface Entry {
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
}

const h = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...kids: (Node | string)[]) => {
  const el = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(el, rest);
  if (dataset) Object.assign(el.dataset, dataset);
  el.append(...kids);
  return el;
};

let editorModule: Promise<{ createEditor(parent: HTMLElement, o: EditorOptions): EditorHandle }> | undefined;
function loadEditor() {
  editorModule ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/assets/editor.js';
    s.onload = () => resolve((globalThis as unknown as { lablabEditor: { createEditor(parent: HTMLElement, o: EditorOptions): EditorHandle } }).lablabEditor);
    s.onerror = () => reject(new Error('The editor could not be loaded; reload the page.'));
    document.head.appendChild(s);
  });
  return editorModule;
}

/** For a playground, whose nodes come and go: which nodes the tree can show. */
export interface FilesPaneHandle {
  setNodes(nodes: number[]): void;
}

export function initFilesPane(boot: LabBoot, notice: (m: string, level?: 'info' | 'warn' | 'error') => void): FilesPaneHandle | undefined {
  const host = document.getElementById('terminals');
  if (!host || boot.terms === 0) return undefined;
  const base = `/labs/${encodeURIComponent(boot.labId)}`;
  let node = 1;
  /** The folder uploads onto a terminal go to: the last one opened in the tree. */
  let currentDir = '';

  // ---- tabs ----
  const tabs = h('div', { className: 'pane-tabs', role: 'tablist' });
  const termTab = h('button', { type: 'button', className: 'pane-tab', textContent: 'Terminals', dataset: { tab: 'terminals' } });
  const filesTab = h('button', { type: 'button', className: 'pane-tab', textContent: 'Files', dataset: { tab: 'files' } });
  termTab.setAttribute('role', 'tab');
  filesTab.setAttribute('role', 'tab');
  tabs.append(termTab, filesTab);
  host.prepend(tabs);

  const nodeSelect = h('select', { className: 'files-node', title: 'Which node' });
  for (let n = 1; n <= boot.terms; n++) nodeSelect.append(h('option', { value: String(n), textContent: `node${n}` }));
  nodeSelect.hidden = boot.terms < 2;
  const refreshBtn = h('button', { type: 'button', className: 'btn-quiet', textContent: '↻', title: 'Refresh the tree' });
  const uploadInput = h('input', { type: 'file', multiple: true, hidden: true });
  const uploadBtn = h('button', { type: 'button', className: 'btn-quiet', textContent: 'Upload…', title: 'Upload files into the selected folder (or drop them on the tree or a terminal)' });
  const tree = h('ul', { className: 'file-tree', id: 'file-tree' });
  tree.setAttribute('role', 'tree');
  const treeBox = h('div', { className: 'files-tree-box' }, h('div', { className: 'files-toolbar' }, h('span', { className: 'files-root', textContent: '/root' }), nodeSelect, refreshBtn, uploadBtn, uploadInput), tree);

  const fileName = h('span', { className: 'editor-file', id: 'editor-file', textContent: 'No file open' });
  const saveBtn = h('button', { type: 'button', className: 'btn', id: 'editor-save', textContent: 'Save', disabled: true });
  const downloadBtn = h('a', { className: 'btn-quiet', id: 'editor-download', textContent: 'Download', hidden: true });
  const state = h('span', { className: 'editor-state', id: 'editor-state' });
  const banner = h('div', { className: 'editor-banner', id: 'editor-banner', hidden: true });
  const editorHost = h('div', { className: 'editor-host', id: 'editor-host' });
  const editorBox = h('div', { className: 'files-editor' }, h('div', { className: 'editor-head' }, fileName, state, downloadBtn, saveBtn), banner, editorHost);
  const pane = h('section', { className: 'files-pane', id: 'files-pane', hidden: true }, treeBox, editorBox);
  host.append(pane);

  const show = (which: 'terminals' | 'files') => {
    host.dataset.view = which;
    pane.hidden = which !== 'files';
    termTab.setAttribute('aria-selected', String(which === 'terminals'));
    filesTab.setAttribute('aria-selected', String(which === 'files'));
    if (which === 'files') {
      void loadEditor().catch((e: Error) => notice(e.message, 'error'));
      if (!tree.childElementCount) void refresh();
    } else window.dispatchEvent(new Event('resize'));
  };
  termTab.addEventListener('click', () => show('terminals'));
  filesTab.addEventListener('click', () => show('files'));
  show('terminals');

  const api = async <T>(url: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(url, { credentials: 'same-origin', ...init });
    const body = (await res.json().catch(() => ({ ok: false, error: { code: 'internal', message: `The server answered ${res.status}.` } }))) as Api<T>;
    if (!body.ok) throw Object.assign(new Error(body.error?.message ?? 'Something went wrong.'), { code: body.error?.code });
    return body.value as T;
  };
  const q = (p: string) => `?path=${encodeURIComponent(p)}`;
  const downloadUrl = (p: string) => `${base}/files/${node}/download${q(p)}`;

  // ---- tree ----
  const row = (dir: string, e: Entry): HTMLLIElement => {
    const p = dir ? `${dir}/${e.name}` : e.name;
    const li = h('li', { className: `file-row file-${e.type}`, dataset: { path: p, type: e.type } });
    const label = h('button', { type: 'button', className: 'file-name', textContent: (e.type === 'dir' ? '▸ ' : '') + e.name, title: p });
    const dl = h('a', { className: 'file-download', href: downloadUrl(p), textContent: '⤓', title: e.type === 'dir' ? `Download ${e.name} as a .tar` : `Download ${e.name}` });
    dl.setAttribute('download', '');
    li.append(label, dl);
    if (e.type === 'dir') {
      const kids = h('ul', { className: 'file-children', hidden: true });
      li.append(kids);
      label.addEventListener('click', async () => {
        currentDir = p;
        markCurrent(li);
        if (!kids.hidden) {
          kids.hidden = true;
          label.textContent = '▸ ' + e.name;
          return;
        }
        await fill(kids, p);
        kids.hidden = false;
        label.textContent = '▾ ' + e.name;
      });
    } else {
      label.addEventListener('click', () => {
        currentDir = dir;
        markCurrent(li);
        void open(p);
      });
    }
    return li;
  };
  const openDir = async (li: HTMLElement) => {
    const kids = li.querySelector<HTMLElement>(':scope > ul')!;
    await fill(kids, li.dataset.path!);
    kids.hidden = false;
    li.querySelector(':scope > .file-name')!.textContent = '▾ ' + li.dataset.path!.split('/').pop();
  };
  const markCurrent = (li: HTMLElement) => {
    tree.querySelectorAll('.file-row.current').forEach((x) => x.classList.remove('current'));
    li.classList.add('current');
  };
  const fill = async (ul: HTMLElement, dir: string) => {
    try {
      const { entries, truncated } = await api<{ entries: Entry[]; truncated: boolean }>(`${base}/files/${node}/list${q(dir)}`);
      ul.replaceChildren(...entries.map((e) => row(dir, e)));
      if (!entries.length) ul.append(h('li', { className: 'file-empty', textContent: '(empty)' }));
      if (truncated) ul.append(h('li', { className: 'file-empty', textContent: '… more not shown' }));
    } catch (e) {
      ul.replaceChildren(h('li', { className: 'file-empty', textContent: (e as Error).message }));
    }
  };
  /** Reloads the tree, keeping open folders open. */
  const refresh = async () => {
    const openDirs = [...tree.querySelectorAll<HTMLElement>('.file-dir')].filter((li) => !li.querySelector(':scope > ul')?.hasAttribute('hidden')).map((li) => li.dataset.path!);
    await fill(tree, '');
    for (const d of openDirs) {
      const li = tree.querySelector<HTMLElement>(`.file-dir[data-path="${CSS.escape(d)}"]`);
      if (li) await openDir(li);
    }
  };
  refreshBtn.addEventListener('click', () => void refresh());
  nodeSelect.addEventListener('change', () => {
    node = Number(nodeSelect.value);
    currentDir = '';
    void refresh();
  });

  // ---- the open file ----
  let editor: EditorHandle | undefined;
  let openPath: string | undefined;
  let version = '';
  let dirty = false;
  let offered = '';

  const setState = (text: string, kind = '') => {
    state.textContent = text;
    state.dataset.kind = kind;
  };
  const offer = (html: string, actions: Array<[string, () => void]>) => {
    banner.innerHTML = html;
    for (const [label, fn] of actions) {
      const b = h('button', { type: 'button', className: 'btn-quiet', textContent: label });
      b.addEventListener('click', fn);
      banner.append(' ', b);
    }
    banner.hidden = false;
  };

  const open = async (p: string) => {
    if (dirty && openPath && openPath !== p && !confirm(`${openPath} has unsaved changes. Open ${p} anyway and lose them?`)) return;
    show('files');
    setState('opening…');
    try {
      const [mod, file] = await Promise.all([loadEditor(), api<{ content: string; version: string }>(`${base}/files/${node}/read${q(p)}`)]);
      editor?.destroy();
      editorHost.replaceChildren();
      editor = mod.createEditor(editorHost, { doc: file.content, filename: p, onChange: () => setDirty(true), onSave: () => void save() });
      openPath = p;
      version = file.version;
      offered = '';
      banner.hidden = true;
      fileName.textContent = `/root/${p}`;
      downloadBtn.href = downloadUrl(p);
      downloadBtn.setAttribute('download', '');
      downloadBtn.hidden = false;
      setDirty(false);
      setState('');
      editor.focus();
    } catch (e) {
      setState('');
      notice((e as Error).message, 'warn');
    }
  };
  const setDirty = (d: boolean) => {
    dirty = d;
    saveBtn.disabled = !openPath;
    saveBtn.textContent = d ? 'Save*' : 'Save';
    editorBox.dataset.dirty = String(d);
  };

  const save = async (overwrite = false) => {
    if (!editor || !openPath) return;
    setState('saving…');
    try {
      const r = await api<{ version: string }>(`${base}/files/${node}/write${q(openPath)}&base=${overwrite ? '' : version}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: editor.getDoc(),
      });
      version = r.version;
      offered = '';
      banner.hidden = true;
      setDirty(false);
      setState('saved', 'ok');
    } catch (e) {
      setState('not saved', 'error');
      if (/changed in the sandbox/.test((e as Error).message)) conflict(true);
      else notice((e as Error).message, 'error');
    }
  };
  saveBtn.addEventListener('click', () => void save());

  const reload = () => {
    if (openPath) void open(openPath).then(() => setState('reloaded', 'ok'));
  };
  const conflict = (onSave: boolean) => {
    offer(
      `<strong>${escapeHtml(openPath ?? '')}</strong> was changed in the sandbox (in the terminal?) since you opened it. ${dirty || onSave ? 'Your edits are not saved.' : ''}`,
      [['Reload from the sandbox', reload], ...(dirty || onSave ? ([['Overwrite with mine', () => void save(true)]] as Array<[string, () => void]>) : [])],
    );
  };

  // Watch the open file: a change made elsewhere is offered, once per version.
  setInterval(async () => {
    if (!openPath || pane.hidden || document.hidden || document.body.dataset.sessionPhase !== 'ready') return;
    try {
      const r = await api<{ version: string | null }>(`${base}/files/${node}/version${q(openPath)}`);
      if (r.version === null) {
        if (offered !== 'gone') offer(`<strong>${escapeHtml(openPath)}</strong> was deleted in the sandbox. Save to create it again.`, []);
        offered = 'gone';
        version = '';
      } else if (r.version !== version && r.version !== offered) {
        offered = r.version;
        conflict(false);
      }
    } catch {
      // The sandbox is restarting or the network blinked: the next tick tries again.
    }
  }, WATCH_MS);

  // ---- uploads ----
  const uploadDeps: UploadDeps = {
    url: (p) => `${base}/files/${node}/upload${q(p)}`,
    maxBytes: boot.maxUploadBytes ?? 100e6,
    notice,
    // Show where the files went: the target folder opens in the tree.
    done: async (dir) => {
      await refresh();
      let acc = '';
      for (const part of dir ? dir.split('/') : []) {
        acc = acc ? `${acc}/${part}` : part;
        const li = tree.querySelector<HTMLElement>(`.file-dir[data-path="${CSS.escape(acc)}"]`);
        if (li?.querySelector(':scope > ul')?.hasAttribute('hidden')) await openDir(li);
      }
    },
  };
  uploadBtn.addEventListener('click', () => uploadInput.click());
  uploadInput.addEventListener('change', () => {
    const list = [...(uploadInput.files ?? [])].map((f) => ({ file: f, path: f.name }));
    void uploadDrop(uploadDeps, currentDir, list);
    uploadInput.value = '';
  });
  const dropTarget = (el: HTMLElement, dirFor: (e: DragEvent) => string) => {
    el.addEventListener('dragover', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      el.classList.add('drop-over');
    });
    el.addEventListener('dragleave', () => el.classList.remove('drop-over'));
    el.addEventListener('drop', (e) => {
      el.classList.remove('drop-over');
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.stopPropagation();
      if (document.body.dataset.sessionPhase !== 'ready') return notice('Your sandbox is still starting; drop the files again in a moment.', 'info');
      void uploadDrop(uploadDeps, dirFor(e), e.dataTransfer);
    });
  };
  // Onto the tree: the folder under the cursor (or the folder of the file under it).
  dropTarget(treeBox, (e) => {
    const li = (e.target as HTMLElement).closest<HTMLElement>('.file-row');
    if (!li) return currentDir;
    const p = li.dataset.path!;
    return li.dataset.type === 'dir' ? p : p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
  });
  // Onto a terminal: the folder last selected in the tree (/root at first).
  for (const t of document.querySelectorAll<HTMLElement>('[data-terminal]')) {
    dropTarget(t, () => {
      node = Number(t.dataset.terminal);
      nodeSelect.value = String(node);
      return currentDir;
    });
  }

  // ---- lab links: [open Dockerfile](#){:data-open="Dockerfile"} ----
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a.open-file[data-open]')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      if (document.body.dataset.sessionPhase !== 'ready') return notice('Your sandbox is still starting; try again in a moment.', 'info');
      if (node !== 1) {
        node = 1;
        nodeSelect.value = '1';
        void refresh();
      }
      void open(a.dataset.open!.replace(/^\.\//, ''));
    });
  }

  window.addEventListener('beforeunload', (e) => {
    if (dirty) e.preventDefault();
  });

  return {
    setNodes(nodes) {
      nodeSelect.replaceChildren(...nodes.map((n) => h('option', { value: String(n), textContent: `node${n}` })));
      nodeSelect.hidden = nodes.length < 2;
      if (nodes.length && !nodes.includes(node)) {
        node = nodes[0]!;
        currentDir = '';
        if (!pane.hidden) void refresh();
      }
      nodeSelect.value = String(node);
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
