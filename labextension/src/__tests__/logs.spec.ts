import { Widget } from '@lumino/widgets';

import { RunsAPIError } from '../api';
import { LogsView } from '../logs';
import { chunk, FakeClient, makeRun } from './fixtures';

afterEach(() => {
  document.body.replaceChildren();
});

function note(view: LogsView): string {
  return view.node.querySelector('.dh-LogsView-note')?.textContent ?? '';
}

describe('LogsView', () => {
  it('follows the log chunk by chunk until it is complete', async () => {
    const client = new FakeClient();
    client.listing.runs = [makeRun('dhrun-a-1', 'succeeded')];
    client.chunks = [
      chunk(0, ['epoch 1', 'epoch 2']),
      chunk(2, []),
      chunk(2, ['done'], true)
    ];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    await view.stopped;

    expect(view.text).toBe('epoch 1\nepoch 2\ndone\n');
    expect(view.done).toBe(true);
    expect(note(view)).toBe('End of the log.');
    expect(client.logQueries.map(q => q.offset)).toEqual([0, 2, 2]);
    // The first request takes the tail at once; the next ones wait.
    expect(client.logQueries[0]).toMatchObject({ wait: 0, tail: 5000 });
    expect(client.logQueries[1]).toMatchObject({ wait: 20 });
    expect(client.logQueries[1].tail).toBeUndefined();
    expect(
      view.node.querySelector<HTMLElement>('.dh-LogsView-status')?.dataset.phase
    ).toBe('succeeded');
    view.dispose();
  });

  it('keeps asking for the tail until lines come', async () => {
    // The server had not read the log yet: the first answer is empty.
    const client = new FakeClient();
    client.chunks = [
      chunk(0, []),
      chunk(0, []),
      { ...chunk(7000, ['line 7000', 'line 7001']), skipped: 7000 },
      chunk(7002, ['line 7002'], true)
    ];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    await view.stopped;

    expect(client.logQueries.map(q => q.tail)).toEqual([
      5000,
      5000,
      5000,
      undefined
    ]);
    expect(client.logQueries.map(q => q.wait)).toEqual([0, 20, 20, 20]);
    expect(client.logQueries.map(q => q.offset)).toEqual([0, 0, 0, 7002]);
    expect(view.text).toBe(
      '… 7000 earlier lines are not shown.\nline 7000\nline 7001\nline 7002\n'
    );
    view.dispose();
  });

  it('says how many early lines are missing', async () => {
    const client = new FakeClient();
    client.chunks = [{ ...chunk(100, ['line 100'], true), skipped: 100 }];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    await view.stopped;

    expect(view.text).toBe('… 100 earlier lines are not shown.\nline 100\n');
    view.dispose();
  });

  it('shows why a log stopped early', async () => {
    const client = new FakeClient();
    client.chunks = [
      chunk(0, ['a'], true, 'The pod was deleted before its log was read.')
    ];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    await view.stopped;

    expect(note(view)).toBe('The pod was deleted before its log was read.');
    view.dispose();
  });

  it('stops with a sentence when the run is gone', async () => {
    const client = new FakeClient();
    client.chunks = [
      new RunsAPIError(404, 'There is no run dhrun-a-1.', 'NotFoundError')
    ];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    await view.stopped;

    expect(view.done).toBe(true);
    expect(note(view)).toContain('no longer exists');
    expect(note(view)).toContain('There is no run dhrun-a-1.');
    view.dispose();
  });

  it('retries after a cluster problem and carries on from the same offset', async () => {
    const client = new FakeClient();
    client.chunks = [
      chunk(0, ['one']),
      new RunsAPIError(
        503,
        'The API server did not answer.',
        'ClusterUnavailableError'
      ),
      chunk(1, ['two'], true)
    ];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    await view.stopped;

    expect(view.text).toBe('one\ntwo\n');
    expect(client.logQueries.map(q => q.offset)).toEqual([0, 1, 1]);
    view.dispose();
  });

  it('stops asking once the tab is closed', async () => {
    const client = new FakeClient();
    client.chunks = [chunk(0, ['one']), chunk(1, ['two']), chunk(2, ['three'])];
    const view = new LogsView(client, 'dhrun-a-1');

    Widget.attach(view, document.body);
    view.dispose();
    await view.stopped;

    expect(client.logQueries.length).toBeLessThanOrEqual(1);
  });
});

describe('LogsView status line', () => {
  it('says the run was removed when it disappears while the tab is open', async () => {
    const client = new FakeClient();
    client.chunks = [chunk(0, ['last words'], true)];
    const view = new LogsView(client, 'dhrun-gone-1');

    Widget.attach(view, document.body);
    await view.stopped;
    // The status requests are not awaited by the follow loop.
    await new Promise(resolve => setTimeout(resolve, 0));

    const status = view.node.querySelector<HTMLElement>('.dh-LogsView-status');
    expect(status?.dataset.phase).toBe('removed');
    expect(status?.textContent).toContain('dhrun-gone-1 was removed');
    expect(view.text).toBe('last words\n');
    view.dispose();
  });
});
