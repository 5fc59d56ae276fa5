/**
 * The shapes of the dh_jupyter runs API and the client interface the panel
 * talks to.
 *
 * This module imports nothing from JupyterLab on purpose: the list model,
 * the rendering and their tests only need these types, and the real HTTP
 * client lives in `request.ts`.
 */

/**
 * A run's phase, in the words the server uses.
 */
export type Phase =
  | 'queued'
  | 'pending'
  | 'pulling image'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/**
 * Where a run stands, in plain words, with the hint that fixes a problem.
 */
export interface IRunStatus {
  phase: Phase;
  /** Whether the run will not change any more. */
  done: boolean;
  /** One line: "running 00:42", "waiting: no node has a free GPU. Ask ...". */
  description: string;
  reason: string;
  hint: string;
  started: string | null;
  finished: string | null;
  elapsed: number | null;
  exit_code: number | null;
}

/**
 * Requests and limits by kind: `{"cpu": {"requests": "1"}, "gpu": {...}}`.
 */
export type Resources = Record<string, Record<string, string>>;

/**
 * One run as the server lists it.
 */
export interface IRun {
  name: string;
  namespace: string;
  backend: string;
  user: string;
  notebook: string;
  created: string | null;
  /** Seconds since the run was created, by the server's clock. */
  age: number | null;
  resources: Resources;
  status: IRunStatus;
}

/**
 * The answer of `GET /dh-jupyter/runs`.
 */
export interface IRunList {
  /** The backend the runs are on: "kubernetes" or "local". */
  backend: string;
  /** Why that backend was picked, when it was picked automatically. */
  reason: string;
  runs: IRun[];
}

/**
 * A piece of a run's log: lines `start` to `offset`.
 */
export interface ILogChunk {
  start: number;
  /** Where the next request continues. */
  offset: number;
  lines: string[];
  /** Lines between the asked offset and `start` that are no longer kept. */
  skipped: number;
  /** Whether the log is complete: no line will ever follow. */
  done: boolean;
  /** Why the log stopped early, or "". */
  error: string;
}

/**
 * What to ask of a log.
 */
export interface ILogQuery {
  offset: number;
  /** Seconds the server may wait for a new line before answering. */
  wait?: number;
  /** Only the last `tail` lines. */
  tail?: number;
}

/**
 * What a user can do to a run from the panel: stop it, or remove it.
 */
export type RunAction = 'cancel' | 'delete';

/**
 * The runs API, as the panel and the log tabs use it.
 */
export interface IRunsClient {
  list(): Promise<IRunList>;
  get(name: string): Promise<IRun>;
  logs(name: string, query: ILogQuery): Promise<ILogChunk>;
  /**
   * Stop a run that is going; resolves with the run as it is then.
   *
   * A local run stays, cancelled, with its logs; on a cluster, stopping a
   * Job means deleting it, so the run is gone afterwards. Rejects with a
   * 409 `RunFinishedError` when the run has already finished.
   */
  cancel(name: string): Promise<IRun>;
  /** Stop the run if it is going, then remove it and its logs. */
  remove(name: string): Promise<void>;
}

/**
 * An error from the runs API, or from reaching it at all.
 *
 * `kind` is the server's error class (`NotFoundError`,
 * `ClusterUnavailableError`, ...). It is "" when the answer did not come
 * from dh_jupyter, for example a 404 because the server extension is not
 * installed, and `NetworkError` when the Jupyter server did not answer.
 */
export class RunsAPIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly kind: string
  ) {
    super(message);
    this.name = 'RunsAPIError';
  }
}
