/**
 * The "Kubernetes runs" side panel: the live list, or why there is none.
 *
 * The panel renders the model and turns clicks into the actions it is
 * given; confirmation dialogs, log tabs and commands belong to the plugin
 * (`index.ts`), so the panel can be tested on its own.
 */

import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { RunsModel } from './model';
import { element, renderProblem, renderRun, updateRows } from './render';

/**
 * What the panel's buttons and rows do.
 */
export interface IRunsPanelActions {
  openLogs(name: string): void;
  cancel(name: string): void;
  remove(name: string): void;
  insertCell(): void;
}

/**
 * The side panel listing the user's runs.
 */
export class RunsPanel extends Widget {
  constructor(model: RunsModel, actions: IRunsPanelActions) {
    super();
    this.model = model;
    this._actions = actions;
    this.addClass('dh-RunsPanel');

    const header = element('div', 'dh-RunsPanel-header');
    const title = element('h2', 'dh-RunsPanel-title', 'Kubernetes runs');
    const refresh = element('button', 'dh-RunsPanel-refresh', '⟳');
    refresh.type = 'button';
    refresh.title = 'Refresh the list now';
    refresh.setAttribute('aria-label', 'Refresh');
    refresh.addEventListener('click', () => void this.model.refresh());
    header.append(title, refresh);

    this._backend = element('p', 'dh-RunsPanel-backend');
    this._problem = element('div', 'dh-RunsPanel-problems');
    this._list = element('ul', 'dh-RunsPanel-list');
    this._list.setAttribute('aria-label', 'Runs');
    this._empty = element('div', 'dh-RunsPanel-empty');
    const insert = element(
      'button',
      'dh-RunsPanel-insert',
      'Insert a %%dhrun cell'
    );
    insert.type = 'button';
    insert.addEventListener('click', () => this._actions.insertCell());
    this._empty.append(
      element(
        'p',
        '',
        'No runs yet: run a notebook cell that starts with %%dhrun, and it ' +
          'shows up here.'
      ),
      insert
    );

    this.node.append(
      header,
      this._backend,
      this._problem,
      this._list,
      this._empty
    );
    this._list.addEventListener('click', this);
    this._list.addEventListener('keydown', this);
    model.changed.connect(this.update, this);
  }

  readonly model: RunsModel;

  /**
   * Route clicks and key presses on the rows to the actions.
   */
  handleEvent(event: Event): void {
    const target = event.target as HTMLElement;
    const row = target.closest<HTMLElement>('.dh-RunsPanel-run');
    const name = row?.dataset.name;
    if (!name) {
      return;
    }
    if (event.type === 'keydown') {
      if ((event as KeyboardEvent).key === 'Enter' && target === row) {
        this._actions.openLogs(name);
      }
      return;
    }
    const action = target.closest<HTMLElement>('[data-action]')?.dataset.action;
    if (action === 'cancel') {
      this._actions.cancel(name);
    } else if (action === 'delete') {
      this._actions.remove(name);
    } else {
      this._actions.openLogs(name);
    }
  }

  protected onAfterAttach(msg: Message): void {
    // A panel restored open is attached visible and never gets a show.
    this.model.active = this.isVisible;
    this.update();
  }

  protected onAfterShow(msg: Message): void {
    this.model.active = true;
    this.update();
  }

  protected onAfterHide(msg: Message): void {
    this.model.active = false;
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.active = false;
  }

  protected onUpdateRequest(msg: Message): void {
    const { model } = this;
    this.node.classList.toggle('dh-mod-loading', !model.loaded);

    this._backend.textContent = describeBackend(model.backend, model.reason);
    this._backend.hidden = !this._backend.textContent;

    this._problem.replaceChildren();
    if (model.problem) {
      this._problem.append(renderProblem(model.problem));
    }

    const rows = model.runs.map(run =>
      renderRun(run, model.ageOf(run), model.pending(run.name))
    );
    updateRows(this._list, rows);
    this._empty.hidden = !model.loaded || !!model.problem || rows.length > 0;
  }

  private _actions: IRunsPanelActions;
  private _backend: HTMLElement;
  private _problem: HTMLElement;
  private _list: HTMLUListElement;
  private _empty: HTMLElement;
}

/**
 * The line under the title: where runs happen, and why when it is local.
 */
export function describeBackend(backend: string, reason: string): string {
  if (reason) {
    return reason;
  }
  if (backend === 'local') {
    return 'Runs happen on this machine (the local backend).';
  }
  return '';
}
