// A lab's variables on the page ($$name$$, from a Docker Labspace): the inputs and set buttons send
// the learner's values to the server, which keeps them with the learner; every $$name$$ span shows the
// current value (as text, never markup), and each ```when part shows or hides as values change.
// A run block's text is what gets typed, so the shell receives exactly the value on screen.
import { conditionHolds, parseAssignments, valueProblem, type VariableCondition, type VariableValues } from '../../server/protocol/variables.ts';

export interface LabVariablesDeps {
  root: ParentNode;
  /** The learner's values when the page was rendered (the page's boot). */
  initial: VariableValues;
  /** Sends values to the server; resolves with all of them, or rejects with the server's reason. */
  send(values: VariableValues): Promise<VariableValues>;
  notice(message: string): void;
}

export interface LabVariablesView {
  /** Shows these values (another tab set them, or the server answered a join). */
  apply(values: VariableValues): void;
  readonly values: VariableValues;
}

/** The condition a ```when part was rendered with (data-when-*). */
export function conditionOf(el: HTMLElement): VariableCondition | undefined {
  const variable = el.dataset.whenVar;
  const test = el.dataset.whenTest;
  if (!variable) return undefined;
  if (test === 'equals') return { variable, test, value: el.dataset.whenValue ?? '' };
  if (test === 'set' || test === 'unset') return { variable, test };
  return undefined;
}

export function initLabVariables(deps: LabVariablesDeps): LabVariablesView {
  const { root } = deps;
  let current: VariableValues = { ...deps.initial };

  const apply = (values: VariableValues) => {
    current = { ...current, ...values };
    for (const span of root.querySelectorAll<HTMLElement>('span.lab-var[data-lab-var]')) {
      const v = current[span.dataset.labVar!];
      // textContent: a value is text, whatever characters it holds.
      if (v !== undefined && span.textContent !== v) span.textContent = v;
    }
    for (const input of root.querySelectorAll<HTMLInputElement>('input[data-lab-var-input]')) {
      const v = current[input.dataset.labVarInput!];
      // What the learner is typing stays; everything else shows the value in force.
      if (v !== undefined && input !== document.activeElement) input.value = v;
    }
    for (const part of root.querySelectorAll<HTMLElement>('.lab-when')) {
      const c = conditionOf(part);
      if (c) part.hidden = !conditionHolds(c, current);
    }
  };

  const submit = async (values: VariableValues, errorEl?: HTMLElement | null): Promise<boolean> => {
    for (const [name, value] of Object.entries(values)) {
      const problem = valueProblem(name, value);
      if (problem) {
        show(errorEl, problem);
        return false;
      }
    }
    try {
      apply(await deps.send(values));
      show(errorEl, '');
      return true;
    } catch (e) {
      show(errorEl, (e as Error).message);
      return false;
    }
  };
  const show = (el: HTMLElement | null | undefined, message: string) => {
    if (el) el.textContent = message;
    else if (message) deps.notice(message);
  };

  for (const form of root.querySelectorAll<HTMLFormElement>('form[data-lab-var-form]')) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const input = form.querySelector<HTMLInputElement>('input[data-lab-var-input]');
      if (!input) return;
      const err = form.querySelector<HTMLElement>('.lab-var-error');
      const button = form.querySelector<HTMLButtonElement>('button');
      if (button) button.disabled = true;
      void submit({ [form.dataset.labVarForm!]: input.value }, err).then((ok) => {
        if (button) button.disabled = false;
        form.classList.toggle('lab-var-refused', !ok);
        if (ok) flash(form);
      });
    });
  }
  for (const a of root.querySelectorAll<HTMLAnchorElement>('a.lab-var-set[data-set-variables]')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      void submit(Object.fromEntries(parseAssignments(a.dataset.setVariables ?? '')));
    });
  }
  apply(current);
  return {
    apply,
    get values() {
      return current;
    },
  };
}

function flash(el: HTMLElement): void {
  el.classList.add('lab-var-saved');
  setTimeout(() => el.classList.remove('lab-var-saved'), 1200);
}
