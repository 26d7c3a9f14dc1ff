// Quizzes rendered from `{:.quiz}` blocks: answers are checked in the page.
import { quizAnswerIsRight } from './quiz-verdict.ts';

export function initQuizzes(root: HTMLElement): void {
  for (const form of root.querySelectorAll<HTMLFormElement>('form.quiz')) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const typed = form.querySelector<HTMLInputElement>('input.quiz-answer');
      if (typed) {
        const norm = (v: string) => v.trim().replace(/\s+/g, ' ').toLowerCase();
        if (!typed.value.trim()) return feedback(form, 'Type an answer first.', 'info');
        const right = norm(typed.value) === norm(typed.dataset.answer ?? '');
        return feedback(form, right ? 'Correct!' : 'Not quite — have another look and try again.', right ? 'pass' : 'fail');
      }
      const inputs = [...form.querySelectorAll<HTMLInputElement>('input[type=radio], input[type=checkbox]')];
      if (!inputs.some((i) => i.checked)) return feedback(form, 'Pick an answer first.', 'info');
      const right = quizAnswerIsRight(form.dataset.quizType, inputs.map((i) => ({ checked: i.checked, correct: i.dataset.correct === 'true' })));
      for (const i of inputs) i.closest('label, li')?.classList.toggle('quiz-correct', right && i.checked);
      feedback(form, right ? 'Correct!' : 'Not quite — have another look and try again.', right ? 'pass' : 'fail');
    });
  }
}

function feedback(form: HTMLFormElement, text: string, kind: string): void {
  let out = form.querySelector<HTMLElement>('.quiz-feedback');
  if (!out) {
    out = document.createElement('p');
    out.className = 'quiz-feedback';
    out.setAttribute('role', 'status');
    form.appendChild(out);
  }
  out.textContent = text;
  out.dataset.result = kind;
}
