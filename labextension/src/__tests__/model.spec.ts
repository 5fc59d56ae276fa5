import { RunsAPIError } from '../api';
import { RunsModel } from '../model';
import { FakeClient, makeRun } from './fixtures';

function setUp(now = () => 1_000_000) {
  const client = new FakeClient();
  const model = new RunsModel({ client, interval: 5, now });
  return { client, model };
}

describe('RunsModel', () => {
  it('holds the runs, backend and reason of the last refresh', async () => {
    const { client, model } = setUp();
    client.listing = {
      backend: 'local',
      reason: 'No Kubernetes cluster is configured.',
      runs: [makeRun('dhrun-a-1'), makeRun('dhrun-b-2', 'succeeded')]
    };

    await model.refresh();

    expect(model.loaded).toBe(true);
    expect(model.runs.map(r => r.name)).toEqual(['dhrun-a-1', 'dhrun-b-2']);
    expect(model.backend).toBe('local');
    expect(model.reason).toBe('No Kubernetes cluster is configured.');
    expect(model.problem).toBeNull();
    expect(model.find('dhrun-b-2')?.status.phase).toBe('succeeded');
    model.dispose();
  });

  it('is not loaded before the first answer', () => {
    const { model } = setUp();
    expect(model.loaded).toBe(false);
    expect(model.runs).toEqual([]);
    model.dispose();
  });

  it('keeps the last runs and states the problem when a refresh fails', async () => {
    const { client, model } = setUp();
    client.listing.runs = [makeRun('dhrun-a-1')];
    await model.refresh();
    client.failure = new RunsAPIError(
      503,
      'The API server did not answer.',
      'ClusterUnavailableError'
    );

    await model.refresh();

    expect(model.runs.map(r => r.name)).toEqual(['dhrun-a-1']);
    expect(model.problem?.kind).toBe('cluster-unreachable');
    expect(model.problem?.detail).toBe('The API server did not answer.');

    client.failure = null;
    await model.refresh();
    expect(model.problem).toBeNull();
    model.dispose();
  });

  it('emits changed after every refresh, good or bad', async () => {
    const { client, model } = setUp();
    let changes = 0;
    model.changed.connect(() => (changes += 1));

    await model.refresh();
    client.failure = new RunsAPIError(404, 'Not Found', '');
    await model.refresh();

    expect(changes).toBe(2);
    expect(model.problem?.kind).toBe('server-missing');
    model.dispose();
  });

  it('ages runs by the time passed since the answer', async () => {
    let now = 1_000_000;
    const { client, model } = setUp(() => now);
    client.listing.runs = [makeRun('dhrun-a-1', 'running', { age: 100 })];
    await model.refresh();

    now += 30_000;

    expect(model.ageOf(model.runs[0])).toBe(130);
    expect(model.ageOf(makeRun('x', 'queued', { age: null }))).toBeNull();
    model.dispose();
  });

  it('marks a run as deleting until the server answers, then refreshes', async () => {
    const { client, model } = setUp();
    client.listing.runs = [makeRun('dhrun-a-1'), makeRun('dhrun-b-2')];
    await model.refresh();
    const seen: Array<string | undefined> = [];
    model.changed.connect(() => seen.push(model.pending('dhrun-a-1')));

    await model.remove('dhrun-a-1');

    expect(seen[0]).toBe('delete');
    expect(model.pending('dhrun-a-1')).toBeUndefined();
    expect(client.calls).toContain('remove dhrun-a-1');
    expect(client.calls).not.toContain('cancel dhrun-a-1');
    expect(model.runs.map(r => r.name)).toEqual(['dhrun-b-2']);
    model.dispose();
  });

  it('cancels through the cancel call, not delete, and shows the run cancelled', async () => {
    const { client, model } = setUp();
    client.listing.runs = [makeRun('dhrun-a-1'), makeRun('dhrun-b-2')];
    await model.refresh();
    const seen: Array<string | undefined> = [];
    model.changed.connect(() => seen.push(model.pending('dhrun-a-1')));

    const run = await model.cancel('dhrun-a-1');

    expect(run.status.phase).toBe('cancelled');
    expect(seen[0]).toBe('cancel');
    expect(model.pending('dhrun-a-1')).toBeUndefined();
    expect(client.calls).toContain('cancel dhrun-a-1');
    expect(client.calls).not.toContain('remove dhrun-a-1');
    // Refreshed after the answer: the row stays, in its new phase.
    expect(client.calls[client.calls.length - 1]).toBe('list');
    expect(model.find('dhrun-a-1')?.status.phase).toBe('cancelled');
    expect(model.runs.map(r => r.name)).toEqual(['dhrun-a-1', 'dhrun-b-2']);
    model.dispose();
  });

  it.each([
    [
      'cancel',
      new RunsAPIError(
        409,
        'dhrun-a-1 has already finished (succeeded), so there is nothing to ' +
          'cancel; delete it instead to remove it and its logs.',
        'RunFinishedError'
      )
    ],
    [
      'remove',
      new RunsAPIError(403, 'jobs is forbidden.', 'PermissionDeniedError')
    ]
  ] as const)(
    'rejects a failed %s with the server error',
    async (action, error) => {
      const { client, model } = setUp();
      client.listing.runs = [makeRun('dhrun-a-1')];
      await model.refresh();
      client.failure = error;

      await expect(model[action]('dhrun-a-1')).rejects.toThrow(error.message);
      expect(model.pending('dhrun-a-1')).toBeUndefined();
      model.dispose();
    }
  );

  it('polls only while active', async () => {
    const { client, model } = setUp();
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(client.calls.filter(c => c === 'list')).toHaveLength(0);

    model.active = true;
    await new Promise(resolve => setTimeout(resolve, 60));
    const polled = client.calls.filter(c => c === 'list').length;
    expect(polled).toBeGreaterThanOrEqual(2);

    model.active = false;
    await new Promise(resolve => setTimeout(resolve, 10));
    const stopped = client.calls.filter(c => c === 'list').length;
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(client.calls.filter(c => c === 'list').length).toBe(stopped);
    model.dispose();
  });
});
