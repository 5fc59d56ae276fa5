/**
 * Runs and a scripted runs client for the unit tests.
 */

import {
  ILogChunk,
  ILogQuery,
  IRun,
  IRunList,
  IRunsClient,
  Phase,
  RunsAPIError
} from '../api';

/**
 * A run as the server would list it, with `changes` laid over.
 */
export function makeRun(
  name: string,
  phase: Phase = 'running',
  changes: Partial<IRun> = {}
): IRun {
  const done = ['succeeded', 'failed', 'cancelled'].includes(phase);
  return {
    name,
    namespace: 'team-a',
    backend: 'kubernetes',
    user: 'alice',
    notebook: 'work/train.ipynb',
    created: '2026-01-01T10:00:00+00:00',
    age: 90,
    resources: { cpu: { requests: '1' }, mem: { requests: '2Gi' } },
    status: {
      phase,
      done,
      description: phase === 'running' ? 'running 00:42' : phase,
      reason: '',
      hint: '',
      started: null,
      finished: null,
      elapsed: null,
      exit_code: null
    },
    ...changes
  };
}

/**
 * A runs client whose answers the test sets, recording every call.
 */
export class FakeClient implements IRunsClient {
  listing: IRunList = { backend: 'kubernetes', reason: '', runs: [] };
  failure: Error | null = null;
  chunks: Array<ILogChunk | Error> = [];
  calls: string[] = [];
  logQueries: ILogQuery[] = [];

  async list(): Promise<IRunList> {
    this.calls.push('list');
    if (this.failure) {
      throw this.failure;
    }
    return JSON.parse(JSON.stringify(this.listing));
  }

  async get(name: string): Promise<IRun> {
    this.calls.push(`get ${name}`);
    const run = this.listing.runs.find(r => r.name === name);
    if (!run) {
      throw new RunsAPIError(404, `There is no run ${name}.`, 'NotFoundError');
    }
    return run;
  }

  async logs(name: string, query: ILogQuery): Promise<ILogChunk> {
    this.calls.push(`logs ${name}`);
    this.logQueries.push(query);
    const next = this.chunks.shift();
    if (next === undefined) {
      return chunk(query.offset, [], true);
    }
    if (next instanceof Error) {
      throw next;
    }
    return next;
  }

  async cancel(name: string): Promise<IRun> {
    this.calls.push(`cancel ${name}`);
    if (this.failure) {
      throw this.failure;
    }
    // As the local backend does: the run stays, cancelled.
    const run = this.listing.runs.find(r => r.name === name);
    if (!run) {
      throw new RunsAPIError(404, `There is no run ${name}.`, 'NotFoundError');
    }
    run.status = {
      ...run.status,
      phase: 'cancelled',
      done: true,
      description: 'cancelled'
    };
    return JSON.parse(JSON.stringify(run));
  }

  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    if (this.failure) {
      throw this.failure;
    }
    this.listing.runs = this.listing.runs.filter(r => r.name !== name);
  }
}

/**
 * A log chunk starting at `start`.
 */
export function chunk(
  start: number,
  lines: string[],
  done = false,
  error = ''
): ILogChunk {
  return {
    start,
    offset: start + lines.length,
    lines,
    skipped: 0,
    done,
    error
  };
}
