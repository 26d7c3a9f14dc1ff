// Recognising the sandbox shell's prompt, `[node1] /root $ ` (sandbox/image/skel/.bashrc), at the end of output.
import { renderScreen } from './screen.ts';

/** `[host] cwd $ ` or `# ` for root prompts a lab may set; the cwd may contain spaces. Matched on a trimmed line. */
export const SANDBOX_PROMPT = /^\[[^\]\s]+\] .*[$#]$/;

/** True when the screen line the cursor ended on is a shell prompt waiting for input. */
export function endsWithPrompt(raw: string, prompt: RegExp = SANDBOX_PROMPT): boolean {
  // A prompt ends in "$ ": the space is there in the raw output even though screen lines are trimmed.
  if (!/[$#] (\x1b\[[0-?]*[ -/]*[@-~])*$/.test(raw)) return false;
  const lines = renderScreen(raw);
  return prompt.test(lines[lines.length - 1] ?? '');
}

/** The screen a finished command left, as plain lines, without the prompt it ended on. */
export function withoutTrailingPrompt(raw: string, prompt: RegExp = SANDBOX_PROMPT): string {
  const lines = renderScreen(raw);
  if (lines.length > 0 && prompt.test(lines[lines.length - 1]!)) lines.pop();
  while (lines.length > 0 && lines[0] === '') lines.shift();
  return lines.join('\n').replace(/\s+$/, '');
}
