/**
 * The DOM of the runs list: one row per run, updated in place.
 *
 * Plain DOM rather than React: a row is a handful of spans, and updating
 * only the rows whose content changed keeps focus and hover on the others
 * while the list refreshes every few seconds.
 */

import { IRun, RunAction } from './api';
import {
  formatAge,
  formatResources,
  notebookLabel,
  phaseClass,
  phaseSymbol
} from './format';
import { IProblem } from './problems';

/**
 * What a row's buttons do.
 */
export type RowAction = 'logs' | 'cancel' | 'delete';

const PENDING_WORDS: Record<RunAction, string> = {
  cancel: 'cancelling…',
  delete: 'deleting…'
};

/**
 * One run as a list row.
 *
 * @param run The run.
 * @param age Its age in seconds now.
 * @param pending The cancel or delete under way, if any.
 */
export function renderRun(
  run: IRun,
  age: number | null,
  pending?: RunAction
): HTMLLIElement {
  const { status } = run;
  const row = element('li', `dh-RunsPanel-run ${phaseClass(status.phase)}`);
  row.dataset.name = run.name;
  row.dataset.phase = status.phase;
  row.tabIndex = 0;
  row.title = `${run.name}: ${status.description}\nClick to open its logs.`;

  const mark = element(
    'span',
    'dh-RunsPanel-status',
    phaseSymbol(status.phase)
  );
  mark.setAttribute('aria-hidden', 'true');

  const heading = element('div', 'dh-RunsPanel-line');
  heading.append(
    element('span', 'dh-RunsPanel-name', run.name),
    element('span', 'dh-RunsPanel-age', formatAge(age))
  );
  const words = element(
    'div',
    'dh-RunsPanel-description',
    pending
      ? `${status.description} (${PENDING_WORDS[pending]})`
      : status.description
  );
  const details = element('div', 'dh-RunsPanel-details');
  if (run.notebook) {
    const notebook = element(
      'span',
      'dh-RunsPanel-notebook',
      notebookLabel(run.notebook)
    );
    notebook.title = run.notebook;
    details.append(notebook);
  }
  const resources = formatResources(run.resources);
  if (resources) {
    details.append(element('span', 'dh-RunsPanel-resources', resources));
  }
  const actions = element('div', 'dh-RunsPanel-actions');
  actions.append(button('logs', 'Logs', `Open the logs of ${run.name}`));
  // A run that is going can be stopped; one that has finished, removed.
  const stop = status.done
    ? button('delete', 'Delete', `Delete ${run.name} and its logs`)
    : button('cancel', 'Cancel', `Stop ${run.name}`);
  stop.disabled = pending !== undefined;
  actions.append(stop);

  // The side panel is narrow: the name gets the whole width, the buttons
  // go below the details.
  const main = element('div', 'dh-RunsPanel-main');
  main.append(heading, words, details, actions);

  row.append(mark, main);
  return row;
}

/**
 * Make `list` show `rows`, in order, replacing only the rows that changed.
 */
export function updateRows(list: HTMLElement, rows: HTMLLIElement[]): void {
  const current = new Map<string, HTMLElement>();
  for (const child of Array.from(list.children) as HTMLElement[]) {
    current.set(child.dataset.name ?? '', child);
  }
  let position = 0;
  for (const row of rows) {
    const existing = current.get(row.dataset.name ?? '');
    let wanted: HTMLElement = row;
    if (existing && existing.isEqualNode(row)) {
      wanted = existing;
    }
    current.delete(row.dataset.name ?? '');
    if (existing && existing !== wanted) {
      existing.remove();
    }
    const here = list.children[position];
    if (here !== wanted) {
      list.insertBefore(wanted, here ?? null);
    }
    position += 1;
  }
  for (const gone of current.values()) {
    gone.remove();
  }
}

/**
 * A problem as the panel shows it: the sentence, then the server's words.
 */
export function renderProblem(problem: IProblem): HTMLElement {
  const box = element('div', `dh-RunsPanel-problem dh-mod-${problem.kind}`);
  box.setAttribute('role', 'alert');
  box.dataset.kind = problem.kind;
  box.append(element('p', 'dh-RunsPanel-summary', problem.summary));
  if (problem.detail) {
    box.append(element('p', 'dh-RunsPanel-detail', problem.detail));
  }
  return box;
}

/**
 * A new element with a class and, optionally, its text.
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  created.className = className;
  if (text !== undefined) {
    created.textContent = text;
  }
  return created;
}

function button(action: RowAction, label: string, title: string) {
  const created = element('button', 'dh-RunsPanel-action', label);
  created.type = 'button';
  created.dataset.action = action;
  created.title = title;
  return created;
}
