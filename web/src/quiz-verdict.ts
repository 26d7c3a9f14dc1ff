// The verdict on a picked quiz answer, apart from the DOM so it can be tested under node.

/**
 * Single choice: the option picked is a right one (a ( ) quiz may mark several (x); the author was
 * warned and any of them counts). Multiple choice: exactly the right options are picked.
 */
export function quizAnswerIsRight(type: string | undefined, options: Array<{ checked: boolean; correct: boolean }>): boolean {
  if (type === 'single') return options.some((o) => o.checked && o.correct);
  return options.every((o) => o.checked === o.correct);
}
