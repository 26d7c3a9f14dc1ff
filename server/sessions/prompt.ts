// Seeing a shell prompt come back in terminal output: the moment to re-check pending checks.
/**
 * A prompt came back: the sandbox shell's OSC 133;A mark, or (a shell without it) "$ " or "# " at
 * the end, possibly followed by readline's redraw sequences such as ESC[K.
 */
const PROMPT_AT_END = /\x1b\]133;A\x07|[$#] (?:\x1b\[[0-?]*[ -/]*[@-~])*$/;
export const promptCameBack = (output: string): boolean => PROMPT_AT_END.test(output);
