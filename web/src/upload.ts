// Drag-and-drop upload: files and whole folders (walked with webkitGetAsEntry), sent one by one
// with a progress bar. The server confines every path; this only refuses what is plainly too big.

export interface UploadDeps {
  /** The upload URL for a path relative to /root. */
  url(path: string): string;
  maxBytes: number;
  notice(message: string, level?: 'info' | 'warn' | 'error'): void;
  /** After the last file, with the folder they went to. */
  done(dir: string): void;
}

interface Item {
  file: File;
  /** Relative to the drop folder, e.g. "site/css/app.css". */
  path: string;
}

async function walk(entry: FileSystemEntry, prefix: string, out: Item[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: prefix + entry.name });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in batches until it returns none.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const e of batch) await walk(e, `${prefix}${entry.name}/`, out);
    }
  }
}

async function itemsOf(src: DataTransfer | Item[]): Promise<Item[]> {
  if (Array.isArray(src)) return src;
  const out: Item[] = [];
  const entries = [...src.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length) for (const e of entries) await walk(e, '', out);
  else for (const f of src.files) out.push({ file: f, path: f.name });
  return out;
}

function progressBar(): { set(text: string, frac: number): void; close(): void } {
  let el = document.getElementById('upload-progress');
  if (!el) {
    el = document.createElement('div');
    el.id = 'upload-progress';
    el.className = 'upload-progress';
    el.setAttribute('role', 'status');
    el.innerHTML = '<span class="upload-text"></span><div class="progress"><div class="progress-bar"></div></div>';
    document.body.appendChild(el);
  }
  const box = el;
  box.hidden = false;
  return {
    set(text, frac) {
      box.querySelector('.upload-text')!.textContent = text;
      (box.querySelector('.progress-bar') as HTMLElement).style.width = `${Math.round(frac * 100)}%`;
      box.dataset.frac = frac.toFixed(2);
    },
    close() {
      setTimeout(() => (box.hidden = true), 1500);
    },
  };
}

function send(url: string, file: File, onProgress: (loaded: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let msg = `The server answered ${xhr.status}.`;
      try {
        const body = JSON.parse(xhr.responseText) as { ok: boolean; error?: { message: string } };
        if (body.ok) return resolve();
        msg = body.error?.message ?? msg;
      } catch {
        // not JSON: keep the status sentence
      }
      reject(new Error(msg));
    };
    xhr.onerror = () => reject(new Error('The upload was interrupted (network).'));
    xhr.send(file);
  });
}

export async function uploadDrop(deps: UploadDeps, dir: string, src: DataTransfer | Item[]): Promise<void> {
  const items = await itemsOf(src);
  if (!items.length) return;
  const tooBig = items.filter((i) => i.file.size > deps.maxBytes);
  if (tooBig.length) {
    deps.notice(`${tooBig.map((i) => i.path).join(', ')}: larger than the ${(deps.maxBytes / 1e6).toFixed(0)} MB upload limit; not uploaded.`, 'warn');
  }
  const todo = items.filter((i) => i.file.size <= deps.maxBytes);
  const total = todo.reduce((n, i) => n + i.file.size, 0) || 1;
  const bar = progressBar();
  let sent = 0;
  let ok = 0;
  for (const item of todo) {
    const target = dir ? `${dir}/${item.path}` : item.path;
    try {
      await send(deps.url(target), item.file, (loaded) => bar.set(`Uploading ${item.path} to /root/${dir ? dir + '/' : ''}`, (sent + loaded) / total));
      ok++;
    } catch (e) {
      deps.notice(`${item.path}: ${(e as Error).message}`, 'error');
    }
    sent += item.file.size;
    bar.set(`Uploading to /root/${dir ? dir + '/' : ''}`, sent / total);
  }
  bar.set(`Uploaded ${ok} of ${todo.length} file(s) to /root/${dir}`, 1);
  bar.close();
  deps.done(dir);
}
