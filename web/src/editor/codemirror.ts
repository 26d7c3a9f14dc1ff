// The CodeMirror 6 editor, bundled on its own (web/dist/editor.js) and loaded only when the
// learner opens the Files tab, so the lab page's first paint does not pay for it.
import { basicSetup } from 'codemirror';
import { EditorView, keymap } from '@codemirror/view';
import { EditorState, type Extension } from '@codemirror/state';
import { indentWithTab } from '@codemirror/commands';
import { StreamLanguage } from '@codemirror/language';
import { dockerFile } from '@codemirror/legacy-modes/mode/dockerfile';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { go } from '@codemirror/legacy-modes/mode/go';
import { yaml } from '@codemirror/legacy-modes/mode/yaml';
import { javascript } from '@codemirror/lang-javascript';

export interface EditorHandle {
  getDoc(): string;
  setDoc(text: string): void;
  focus(): void;
  destroy(): void;
}

export interface EditorOptions {
  doc: string;
  filename: string;
  onChange(): void;
  onSave(): void;
}

/** Highlighting from the file's name: Dockerfile, YAML, Go, JavaScript/TypeScript/JSON, shell. */
export function languageFor(filename: string): Extension[] {
  const name = filename.toLowerCase();
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (/^(dockerfile|containerfile)(\.|$)|\.dockerfile$/.test(base)) return [StreamLanguage.define(dockerFile)];
  if (/\.ya?ml$/.test(base)) return [StreamLanguage.define(yaml)];
  if (/\.go$/.test(base)) return [StreamLanguage.define(go)];
  if (/\.(m?js|cjs|jsx)$/.test(base)) return [javascript({ jsx: base.endsWith('x') })];
  if (/\.(ts|tsx|mts)$/.test(base)) return [javascript({ typescript: true, jsx: base.endsWith('x') })];
  if (/\.json$/.test(base)) return [javascript()];
  if (/\.(sh|bash)$|^\.(bashrc|profile|bash_profile)$/.test(base)) return [StreamLanguage.define(shell)];
  return [];
}

export function createEditor(parent: HTMLElement, opts: EditorOptions): EditorHandle {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab, { key: 'Mod-s', preventDefault: true, run: () => (opts.onSave(), true) }]),
        ...languageFor(opts.filename),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange();
        }),
        EditorView.theme({ '&': { height: '100%', fontSize: '13.5px' }, '.cm-scroller': { fontFamily: '"DejaVu Sans Mono", Menlo, Consolas, monospace' } }),
      ],
    }),
  });
  return {
    getDoc: () => view.state.doc.toString(),
    setDoc: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}

(globalThis as { lablabEditor?: unknown }).lablabEditor = { createEditor };
