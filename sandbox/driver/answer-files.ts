// A lab folder's files start in the learner's /root, except its answer key: a Killercoda step's
// verify script is the check itself, and solution files are the answers. Copied in, a learner could
// read what the check expects, or edit it. The checks get them from the lab on the server instead.

/** Basenames that never go into a sandbox (case-insensitive). */
const ANSWER_FILE = /^(verify[^/]*\.sh|verify|solution[^/]*|solutions?)$/i;

/** True when a path inside a lab folder (any separator, any depth) is or lies under an answer file. */
export function isAnswerFile(relPath: string): boolean {
  // The lab's own lab.md holds its check blocks (what each check expects): the page shows the text,
  // /root does not need the source.
  if (/^lab\.md$/i.test(relPath)) return true;
  return relPath.split(/[\\/]/).some((seg) => ANSWER_FILE.test(seg));
}
