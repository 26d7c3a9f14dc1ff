// Reads a root filesystem as a tar (`docker export`) on stdin and writes it to stdout with every
// owner moved into the sandbox's user namespace range: uid/gid N becomes BASE + N, so that root in
// the sandbox's user namespace (host uid BASE) owns what root owned in the image. /.lablab keeps
// host root as its owner: it is what runs with host privileges, and the learner must not change it.
// Usage: docker export <c> | node shift-rootfs.mjs <base> | docker import - <tag>
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

const base = Number(process.argv[2]);
const RANGE = 65536;
if (!Number.isInteger(base) || base < RANGE) {
  console.error('usage: shift-rootfs.mjs <base uid, at least 65536>');
  process.exit(2);
}
const kept = (name) => {
  const n = name.replace(/^\.?\//, '');
  return n === '.lablab' || n === '.lablab/' || n.startsWith('.lablab/');
};
const shift = (id) => (id < RANGE ? base + id : id); // ids past the range stay unmapped (shown as nobody)

const extract = tar.extract();
const pack = tar.pack();
let entries = 0;
extract.on('entry', (header, stream, next) => {
  entries++;
  const h = { ...header, uname: '', gname: '' };
  if (!kept(h.name)) {
    h.uid = shift(h.uid ?? 0);
    h.gid = shift(h.gid ?? 0);
    // Past 262143 (six octal digits) the ustar fields cannot hold the id: PAX records carry it.
    h.pax = { ...(h.pax ?? {}), uid: String(h.uid), gid: String(h.gid) };
  }
  stream.pipe(pack.entry(h, next));
});
extract.on('finish', () => pack.finalize());
await Promise.all([pipeline(process.stdin, extract), pipeline(pack, process.stdout)]);
console.error(`shift-rootfs: ${entries} entries, owners moved by ${base} (except /.lablab)`);
