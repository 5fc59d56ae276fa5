import { Widget } from '@lumino/widgets';

import { RunsAPIError } from '../api';
import { RunsModel } from '../model';
import { describeBackend, IRunsPanelActions, RunsPanel } from '../panel';
import { renderRun, updateRows } from '../render';
import { FakeClient, makeRun } from './fixtures';

class Recorder implements IRunsPanelActions {
  calls: string[] = [];
  openLogs(name: string) {
    this.calls.push(`logs ${name}`);
  }
  cancel(name: string) {
    this.calls.push(`cancel ${name}`);
  }
  remove(name: string) {
    this.calls.push(`delete ${name}`);
  }
  insertCell() {
    this.calls.push('insert');
  }
}

async function shownPanel(client: FakeClient) {
  const model = new RunsModel({ client, interval: 60_000, now: () => 0 });
  const actions = new Recorder();
  const panel = new RunsPanel(model, actions);
  Widget.attach(panel, document.body);
  await model.refresh();
  panel.update();
  // Lumino runs update requests on the next animation frame.
  await new Promise(resolve => requestAnimationFrame(() => resolve(null)));
  return { model, panel, actions };
}

function rows(panel: RunsPanel): HTMLElement[] {
  return Array.from(panel.node.querySelectorAll('.dh-RunsPanel-run'));
}

function text(panel: RunsPanel, selector: string): string {
  return panel.node.querySelector(selector)?.textContent ?? '';
}

afterEach(() => {
  document.body.replaceChildren();
});

describe('RunsPanel', () => {
  it('lists each run with its status, name, notebook, resources and age', async () => {
    const client = new FakeClient();
    client.listing.runs = [
      makeRun('dhrun-train-x7k2', 'running', {
        age: 300,
        resources: { cpu: { requests: '2' }, gpu: { limits: '1' } }
      }),
      makeRun('dhrun-prep-b4c5', 'failed', { notebook: 'prep.ipynb' })
    ];

    const { panel } = await shownPanel(client);

    const [first, second] = rows(panel);
    expect(rows(panel)).toHaveLength(2);
    expect(first.dataset.name).toBe('dhrun-train-x7k2');
    expect(first.classList).toContain('dh-mod-running');
    expect(first.querySelector('.dh-RunsPanel-status')?.textContent).toBe('▶');
    expect(first.querySelector('.dh-RunsPanel-description')?.textContent).toBe(
      'running 00:42'
    );
    expect(first.querySelector('.dh-RunsPanel-notebook')?.textContent).toBe(
      'train.ipynb'
    );
    expect(first.querySelector('.dh-RunsPanel-resources')?.textContent).toBe(
      'cpu 2 · gpu 1'
    );
    expect(first.querySelector('.dh-RunsPanel-age')?.textContent).toBe('5 min');
    expect(second.dataset.phase).toBe('failed');
    expect(text(panel, '.dh-RunsPanel-title')).toBe('Kubernetes runs');
    panel.dispose();
  });

  it.each([
    ['running', 'cancel'],
    ['pending', 'cancel'],
    ['succeeded', 'delete'],
    ['cancelled', 'delete']
  ] as const)('offers a %s run the %s action', async (phase, action) => {
    const client = new FakeClient();
    client.listing.runs = [makeRun('dhrun-a-1', phase)];
    const { panel, actions } = await shownPanel(client);

    const button = rows(panel)[0].querySelector<HTMLButtonElement>(
      `[data-action="${action}"]`
    );
    button?.click();

    expect(actions.calls).toEqual([`${action} dhrun-a-1`]);
    panel.dispose();
  });

  it('opens the logs on a click on the row or on its Logs button', async () => {
    const client = new FakeClient();
    client.listing.runs = [makeRun('dhrun-a-1')];
    const { panel, actions } = await shownPanel(client);
    const row = rows(panel)[0];

    row.querySelector<HTMLElement>('.dh-RunsPanel-name')?.click();
    row.querySelector<HTMLButtonElement>('[data-action="logs"]')?.click();
    row.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
    );

    expect(actions.calls).toEqual([
      'logs dhrun-a-1',
      'logs dhrun-a-1',
      'logs dhrun-a-1'
    ]);
    panel.dispose();
  });

  it('shows the problem sentence instead of an empty list', async () => {
    const client = new FakeClient();
    client.failure = new RunsAPIError(404, '404 Not Found', '');
    const { panel } = await shownPanel(client);

    const problem = panel.node.querySelector<HTMLElement>(
      '.dh-RunsPanel-problem'
    );
    expect(problem?.dataset.kind).toBe('server-missing');
    expect(problem?.textContent).toContain('pip install dh_jupyter');
    expect(problem?.getAttribute('role')).toBe('alert');
    expect(
      panel.node.querySelector<HTMLElement>('.dh-RunsPanel-empty')?.hidden
    ).toBe(true);
    panel.dispose();
  });

  it('invites to insert a cell when there are no runs', async () => {
    const { panel, actions } = await shownPanel(new FakeClient());
    const empty = panel.node.querySelector<HTMLElement>('.dh-RunsPanel-empty');

    empty?.querySelector('button')?.click();

    expect(empty?.hidden).toBe(false);
    expect(empty?.textContent).toContain('%%dhrun');
    expect(actions.calls).toEqual(['insert']);
    panel.dispose();
  });

  it('says why runs are local when the backend was picked for that', async () => {
    const client = new FakeClient();
    client.listing = {
      backend: 'local',
      reason: 'No Kubernetes cluster is configured, so cells run here.',
      runs: []
    };
    const { panel } = await shownPanel(client);

    expect(text(panel, '.dh-RunsPanel-backend')).toBe(
      'No Kubernetes cluster is configured, so cells run here.'
    );
    panel.dispose();
  });

  it('starts polling when shown and stops when hidden', async () => {
    const { model, panel } = await shownPanel(new FakeClient());
    expect(model.active).toBe(true);

    panel.hide();
    expect(model.active).toBe(false);
    panel.dispose();
  });
});

describe('describeBackend', () => {
  it.each([
    ['kubernetes', '', ''],
    ['local', '', 'Runs happen on this machine (the local backend).'],
    ['local', 'No cluster.', 'No cluster.']
  ])('describes %p with reason %p as %p', (backend, reason, expected) => {
    expect(describeBackend(backend, reason)).toBe(expected);
  });
});

describe('updateRows', () => {
  it('keeps unchanged rows, replaces changed ones and follows the order', () => {
    const list = document.createElement('ul');
    const a = makeRun('dhrun-a-1');
    const b = makeRun('dhrun-b-2');
    const c = makeRun('dhrun-c-3');
    updateRows(list, [renderRun(a, 10), renderRun(b, 10)]);
    const [keptA, oldB] = Array.from(list.children);

    const finishedB = makeRun('dhrun-b-2', 'succeeded');
    updateRows(list, [
      renderRun(c, 1),
      renderRun(a, 10),
      renderRun(finishedB, 10)
    ]);

    const names = Array.from(list.children).map(
      row => (row as HTMLElement).dataset.name
    );
    expect(names).toEqual(['dhrun-c-3', 'dhrun-a-1', 'dhrun-b-2']);
    expect(list.children[1]).toBe(keptA);
    expect(list.children[2]).not.toBe(oldB);
    expect((list.children[2] as HTMLElement).dataset.phase).toBe('succeeded');

    updateRows(list, [renderRun(a, 10)]);
    expect(list.children).toHaveLength(1);
    expect(list.children[0]).toBe(keptA);
  });

  it.each([
    ['running', 'cancel', 'cancel', 'cancelling…'],
    ['succeeded', 'delete', 'delete', 'deleting…']
  ] as const)(
    'disables the button of a %s run while its %s is under way',
    (phase, pending, action, words) => {
      const row = renderRun(makeRun('dhrun-a-1', phase), 5, pending);
      const stop = row.querySelector<HTMLButtonElement>(
        `[data-action="${action}"]`
      );
      expect(stop?.disabled).toBe(true);
      expect(
        row.querySelector('.dh-RunsPanel-description')?.textContent
      ).toContain(words);
    }
  );

  it('offers exactly one of Cancel and Delete', () => {
    const going = renderRun(makeRun('dhrun-a-1', 'running'), 5);
    const done = renderRun(makeRun('dhrun-a-1', 'cancelled'), 5);

    expect(going.querySelector('[data-action="delete"]')).toBeNull();
    expect(going.querySelector('[data-action="cancel"]')).not.toBeNull();
    expect(done.querySelector('[data-action="cancel"]')).toBeNull();
    expect(done.querySelector('[data-action="delete"]')).not.toBeNull();
    expect(done.dataset.phase).toBe('cancelled');
  });
});
