/**
 * A run's log in a main-area tab, following new lines as they are written.
 *
 * The view long-polls `GET /dh-jupyter/runs/<name>/logs` with the offset
 * of the last line it has; the server answers as soon as a line arrives.
 * It stops when the log is complete or the tab is closed, and keeps to the
 * bottom only while the user has not scrolled up to read.
 */

import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { IRunsClient, RunsAPIError } from './api';
import { phaseClass, phaseSymbol } from './format';
import { problemOf } from './problems';
import { element } from './render';

/**
 * How long the server may hold a poll open, in seconds.
 */
const WAIT = 20;

/**
 * How many lines a newly opened tab shows at most.
 */
const TAIL = 5000;

/**
 * How many lines the tab keeps; older ones are dropped as new ones come.
 */
const KEEP = 50000;

/**
 * How often the status line above the log is refreshed, in milliseconds.
 */
const STATUS_EVERY = 5000;

/**
 * The content of a log tab.
 */
export class LogsView extends Widget {
  constructor(client: IRunsClient, runName: string) {
    super();
    this.runName = runName;
    this._client = client;
    this.addClass('dh-LogsView');
    this.id = `dh-jupyter-logs-${runName}`;

    this._status = element('div', 'dh-LogsView-status');
    this._status.setAttribute('aria-live', 'polite');
    this._output = element('pre', 'dh-LogsView-output');
    this._output.setAttribute('aria-label', `Logs of ${runName}`);
    this._note = element('div', 'dh-LogsView-note');
    this.node.append(this._status, this._output, this._note);
    this._output.addEventListener('scroll', () => {
      const { scrollTop, scrollHeight, clientHeight } = this._output;
      this._stick = scrollHeight - scrollTop - clientHeight < 24;
    });
  }

  /**
   * The run whose log this is.
   */
  readonly runName: string;

  /**
   * Whether the log is complete and nothing more will be asked.
   */
  get done(): boolean {
    return this._done;
  }

  /**
   * Resolves when following stops: the log is complete, or the tab closed.
   */
  get stopped(): Promise<void> {
    return this._stopped;
  }

  /**
   * Start following; called once, when the tab is first shown.
   */
  start(): void {
    if (this._running) {
      return;
    }
    this._running = true;
    this._stopped = this._follow();
  }

  dispose(): void {
    this._running = false;
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    this.start();
  }

  /**
   * The lines shown so far, for tests and copying.
   */
  get text(): string {
    return this._output.textContent ?? '';
  }

  private async _follow(): Promise<void> {
    let offset = 0;
    // Until some lines came, the tab asks for the tail: an empty first
    // answer (the server had not read the log yet) must not turn the next
    // request into one for the whole log from its start.
    let tail = true;
    let first = true;
    let pause = 1000;
    void this._refreshStatus();

    while (this._running && !this.isDisposed) {
      try {
        const chunk = await this._client.logs(this.runName, {
          offset,
          wait: first ? 0 : WAIT,
          tail: tail ? TAIL : undefined
        });
        if (this.isDisposed) {
          return;
        }
        if (chunk.skipped > 0) {
          this._append([`… ${chunk.skipped} earlier lines are not shown.`]);
        }
        this._append(chunk.lines);
        offset = chunk.offset;
        first = false;
        tail = tail && chunk.lines.length === 0 && !chunk.done;
        pause = 1000;
        this._setNote('');
        if (chunk.done || Date.now() - this._statusAt > STATUS_EVERY) {
          void this._refreshStatus();
        }
        if (chunk.done) {
          this._done = true;
          this._setNote(chunk.error || 'End of the log.');
          return;
        }
      } catch (error) {
        if (this.isDisposed) {
          return;
        }
        const problem = problemOf(error, 'run');
        const detail = problem.detail ? ` ${problem.detail}` : '';
        if (error instanceof RunsAPIError && error.status === 404) {
          // The run is gone (cancelled, or its time to live ran out), or
          // the server extension is: either way no line will come.
          this._done = true;
          this._setNote(`${problem.summary}${detail}`);
          return;
        }
        this._setNote(`${problem.summary}${detail} Retrying…`);
        await new Promise(resolve => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 30000);
      }
    }
  }

  private _append(lines: string[]): void {
    if (lines.length === 0) {
      return;
    }
    this._output.append(document.createTextNode(lines.join('\n') + '\n'));
    this._sizes.push(lines.length);
    this._kept += lines.length;
    // Whole chunks are dropped from the top, so the view stays responsive.
    while (this._kept > KEEP && this._sizes.length > 1) {
      this._output.firstChild?.remove();
      this._kept -= this._sizes.shift() ?? 0;
    }
    if (this._stick) {
      this._output.scrollTop = this._output.scrollHeight;
    }
  }

  private async _refreshStatus(): Promise<void> {
    this._statusAt = Date.now();
    try {
      const run = await this._client.get(this.runName);
      if (this.isDisposed) {
        return;
      }
      const { phase, description } = run.status;
      this._status.className = `dh-LogsView-status ${phaseClass(phase)}`;
      this._status.dataset.phase = phase;
      this._status.textContent = `${phaseSymbol(phase)} ${this.runName}: ${description}`;
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      if (error instanceof RunsAPIError && error.kind === 'NotFoundError') {
        // Cancelled or deleted while the tab was open: the lines stay.
        this._status.className = 'dh-LogsView-status dh-mod-removed';
        this._status.dataset.phase = 'removed';
        this._status.textContent =
          `${this.runName} was removed (cancelled or deleted); the lines ` +
          'below are what was read before.';
      }
      // Other failures leave the last status; the note says what failed.
    }
  }

  private _setNote(text: string): void {
    this._note.textContent = text;
    this._note.hidden = !text;
  }

  private _client: IRunsClient;
  private _status: HTMLElement;
  private _output: HTMLPreElement;
  private _note: HTMLElement;
  private _running = false;
  private _done = false;
  private _stick = true;
  private _sizes: number[] = [];
  private _kept = 0;
  private _statusAt = 0;
  private _stopped: Promise<void> = Promise.resolve();
}
