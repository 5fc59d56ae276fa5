/**
 * The list of the user's runs, kept fresh by polling the server.
 *
 * The model owns no DOM. It polls `GET /dh-jupyter/runs` while someone
 * looks at the panel, backs off while the server or cluster is in trouble,
 * and says what changed through one signal.
 */

import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IRun, IRunsClient, RunAction } from './api';
import { IProblem, problemOf } from './problems';

/**
 * Options of a runs model.
 */
export interface IRunsModelOptions {
  client: IRunsClient;
  /** Milliseconds between two refreshes; 3 s by default. */
  interval?: number;
  /** The clock, in milliseconds; replaced in tests. */
  now?: () => number;
}

/**
 * The runs the panel shows, and whether it can show them.
 */
export class RunsModel implements IDisposable {
  constructor(options: IRunsModelOptions) {
    this._client = options.client;
    this._now = options.now ?? Date.now;
    const interval = options.interval ?? 3000;
    this._poll = new Poll({
      auto: false,
      factory: () => this._fetch(),
      frequency: { interval, backoff: true, max: 10 * interval },
      name: 'dh-jupyter:runs',
      // Nobody looking means nothing to refresh.
      standby: () => !this._active || 'when-hidden'
    });
  }

  /**
   * Emitted whenever the runs, a problem or a pending action changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The runs, newest first, as of the last successful refresh.
   */
  get runs(): readonly IRun[] {
    return this._runs;
  }

  /**
   * The backend the runs are on ("kubernetes" or "local"), once known.
   */
  get backend(): string {
    return this._backend;
  }

  /**
   * Why the backend was picked, when it was picked automatically.
   */
  get reason(): string {
    return this._reason;
  }

  /**
   * What keeps the list from being fresh, or null.
   */
  get problem(): IProblem | null {
    return this._problem;
  }

  /**
   * Whether a refresh has ever answered, with runs or with a problem.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Whether the list refreshes on its own; the panel sets it while shown.
   */
  get active(): boolean {
    return this._active;
  }
  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    if (!value) {
      return;
    }
    if (this._started) {
      void this._poll.refresh();
    } else {
      this._started = true;
      void this._poll.start();
    }
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /**
   * The run called `name`, if it was in the last refresh.
   */
  find(name: string): IRun | undefined {
    return this._runs.find(run => run.name === name);
  }

  /**
   * A run's age in seconds now: the server's age plus the time since.
   */
  ageOf(run: IRun): number | null {
    if (run.age === null) {
      return null;
    }
    return run.age + (this._now() - this._receivedAt) / 1000;
  }

  /**
   * The cancel or delete of `name` under way, if any.
   */
  pending(name: string): RunAction | undefined {
    return this._pending.get(name);
  }

  /**
   * Refresh now, whatever the polling schedule.
   */
  async refresh(): Promise<void> {
    try {
      await this._fetch();
    } catch {
      // The problem is already on the model for the panel to show.
    }
  }

  /**
   * Stop the run called `name`, then refresh.
   *
   * A local run stays in the list, cancelled; on a cluster the run leaves
   * it, since stopping a Job deletes it. Rejects with the server's error
   * (a 409 when the run had already finished), so the caller can show it.
   */
  async cancel(name: string): Promise<IRun> {
    return this._act(name, 'cancel', () => this._client.cancel(name));
  }

  /**
   * Stop the run called `name` if it is going and remove it, then refresh.
   *
   * Rejects with the server's error, so the caller can show it.
   */
  async remove(name: string): Promise<void> {
    await this._act(name, 'delete', () => this._client.remove(name));
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _act<T>(
    name: string,
    action: RunAction,
    call: () => Promise<T>
  ): Promise<T> {
    this._pending.set(name, action);
    this._changed.emit();
    try {
      return await call();
    } finally {
      this._pending.delete(name);
      await this.refresh();
    }
  }

  private async _fetch(): Promise<void> {
    try {
      const listing = await this._client.list();
      this._runs = listing.runs;
      this._backend = listing.backend;
      this._reason = listing.reason;
      this._receivedAt = this._now();
      this._problem = null;
    } catch (error) {
      this._problem = problemOf(error, 'list');
      // Rethrown so that the poll backs off while the trouble lasts.
      throw error;
    } finally {
      this._loaded = true;
      if (!this.isDisposed) {
        this._changed.emit();
      }
    }
  }

  private _client: IRunsClient;
  private _now: () => number;
  private _poll: Poll;
  private _changed = new Signal<this, void>(this);
  private _runs: IRun[] = [];
  private _backend = '';
  private _reason = '';
  private _problem: IProblem | null = null;
  private _loaded = false;
  private _active = false;
  private _started = false;
  private _receivedAt = 0;
  private _pending = new Map<string, RunAction>();
}
