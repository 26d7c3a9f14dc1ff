// Reasoning about images from what the engine says about them: layers (diff ids, base first) and history
// (oldest first). Pure functions over ImageInfo values, so every rule is unit-tested without Docker.
import type { ImageInfo } from '../../sandbox/driver/types.ts';
import {
  type ParsedDockerfile, type Stage, type Step, LAYER_KEYWORDS, describeStep, historyStep, instructionStep, stageChain, stepMatches,
} from './dockerfile.ts';
import { clip, plural } from './format.ts';

export function isPrefix<T>(prefix: readonly T[], of: readonly T[]): boolean {
  if (prefix.length > of.length) return false;
  return prefix.every((x, i) => x === of[i]);
}

/** How many leading layers two images have in common. */
export function sharedLeadingLayers(a: ImageInfo, b: ImageInfo): number {
  let n = 0;
  while (n < a.layers.length && n < b.layers.length && a.layers[n] === b.layers[n]) n++;
  return n;
}

const createdBy = (img: ImageInfo): string[] => img.history.map((h) => h.createdBy);

/**
 * `img` was built FROM `base` (directly or through images in between): all of base's layers start img's
 * layers, AND base's history is a strictly shorter prefix of img's history. The history half is what tells a
 * real parent from a sibling that merely starts with the same layer (two FROM scratch images whose first
 * `COPY` happens to be identical), and what catches `FROM golang:1.19` + only `ENV`/`CMD` (no new layer).
 */
export function isBuiltOn(img: ImageInfo, base: ImageInfo): boolean {
  if (base.id === img.id || base.layers.length === 0) return false;
  if (!isPrefix(base.layers, img.layers)) return false;
  const bh = createdBy(base);
  return bh.length < img.history.length && isPrefix(bh, createdBy(img));
}

export const nameOf = (img: ImageInfo): string => img.tags[0] ?? img.id.replace(/^sha256:/, '').slice(0, 12);

export interface ScratchVerdict {
  fromScratch: boolean;
  /** Why, in a clause that fits after the image name: "is built on golang:1.19 (its first 7 layers are that image's)". */
  reason: string;
}

/**
 * "Built FROM scratch" means the image's last stage had no base image. We decide it from the image itself:
 *  1. No other image in the sandbox is a base of it (see isBuiltOn). This catches FROM golang:1.19, FROM
 *     busybox, and FROM any image built from those, as long as some ancestor is still present.
 *  2. If no ancestor is present (the learner deleted it), its oldest history entry must not be a base OS
 *     filesystem: a `docker import` (empty "created by") or an `ADD <archive> /` at the root, which is how
 *     distribution images begin. A learner's FROM scratch image begins with their own COPY of a binary.
 * Rule 2 would misjudge a learner's own `FROM scratch` + `ADD rootfs.tar /` image; labs don't ask that.
 */
export function judgeScratch(img: ImageInfo, others: readonly ImageInfo[]): ScratchVerdict {
  const bases = others.filter((o) => isBuiltOn(img, o)).sort((a, b) => b.layers.length - a.layers.length);
  const closest = bases[0];
  if (closest) {
    return {
      fromScratch: false,
      reason: `is built on ${nameOf(closest)} (its first ${plural(closest.layers.length, 'layer')} are that image's)`,
    };
  }
  const oldest = img.history[0];
  if (oldest) {
    const step = historyStep(oldest.createdBy);
    if (step.keyword === 'IMPORT') return { fromScratch: false, reason: 'starts with an imported base filesystem (docker import)' };
    if (step.keyword === 'ADD' && step.text === '/') {
      return { fromScratch: false, reason: `starts with a base OS filesystem (\`${clip(oldest.createdBy, 60)}\`)` };
    }
  }
  return {
    fromScratch: true,
    reason: `has ${plural(img.layers.length, 'layer')} of its own and no base image: no other image's layers start it`,
  };
}

export interface StageMatch {
  matches: boolean;
  /** Why not (or what was compared), as a clause. */
  reason: string;
  /** Build steps (RUN/COPY/ADD) the image has after its base, and the stage's chain has. */
  imageSteps: Step[];
  stageSteps: Step[];
  /** False when the stage's base image isn't in the sandbox, so only the tail could be compared. */
  baseCompared: boolean;
}

/**
 * Whether an image is the result of building `stage`: it starts with the stage's root image (layers and
 * history), and the RUN/COPY/ADD steps after that are exactly the stage chain's RUN/COPY/ADD instructions,
 * in order. Metadata instructions (ENV, CMD, WORKDIR...) are not compared: the classic builder turns a
 * WORKDIR into a layer only when the folder is new, so they can't be counted reliably.
 * `root` is the root image (null when it isn't in the sandbox; "scratch" for FROM scratch).
 */
export function matchStage(img: ImageInfo, df: ParsedDockerfile, stage: Stage, root: ImageInfo | null | 'scratch'): StageMatch {
  const { chain, root: rootName } = stageChain(df, stage);
  const stageSteps = chain.flatMap((s) => s.instructions).filter((i) => LAYER_KEYWORDS.has(i.keyword)).map(instructionStep);
  let own = img.history;
  let baseCompared = true;
  const base = { imageSteps: [] as Step[], stageSteps, baseCompared };
  if (root === 'scratch') {
    // Nothing to strip.
  } else if (root === null) {
    baseCompared = false;
  } else {
    if (!isPrefix(root.layers, img.layers) || !isPrefix(createdBy(root), createdBy(img))) {
      return { ...base, matches: false, reason: `it does not start with the layers of ${rootName}, the stage's base` };
    }
    own = img.history.slice(root.history.length);
  }
  const imageSteps = own.map((h) => historyStep(h.createdBy)).filter((s) => LAYER_KEYWORDS.has(s.keyword));
  const out = { imageSteps, stageSteps, baseCompared };
  if (baseCompared && imageSteps.length !== stageSteps.length) {
    return {
      ...out,
      matches: false,
      reason: `it has ${plural(imageSteps.length, 'build step')} on top of ${rootName}, the stage has ${stageSteps.length}`,
    };
  }
  if (imageSteps.length < stageSteps.length) {
    return { ...out, matches: false, reason: `it has only ${plural(imageSteps.length, 'build step')}, the stage has ${stageSteps.length}` };
  }
  for (let k = 1; k <= stageSteps.length; k++) {
    const h = imageSteps[imageSteps.length - k]!;
    const s = stageSteps[stageSteps.length - k]!;
    if (!stepMatches(h, s)) {
      return {
        ...out,
        matches: false,
        reason: `its build step \`${clip(describeStep(h), 60)}\` is not the stage's \`${clip(describeStep(s), 60)}\``,
      };
    }
  }
  const last = stageSteps[stageSteps.length - 1];
  const what = last ? `its last build step is \`${clip(describeStep(last), 60)}\`` : 'it adds no build steps';
  return {
    ...out,
    matches: true,
    reason: root === 'scratch' || root === null ? what : `it starts with ${rootName}'s ${plural(root.layers.length, 'layer')} and ${what}`,
  };
}
