import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  showDialog,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { cellsToInsert, DHRUN_CELL } from './cells';
import type { LogsView } from './logs';
// The panel and its model are built in activate(), so they load with it.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RunsModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RunsPanel } from './panel';
import { problemOf } from './problems';
import { createClient } from './request';

/**
 * The commands the extension adds.
 */
export namespace CommandIDs {
  export const openPanel = 'dh-jupyter:open-runs';
  export const refresh = 'dh-jupyter:refresh-runs';
  export const openLogs = 'dh-jupyter:open-logs';
  export const cancel = 'dh-jupyter:cancel-run';
  export const remove = 'dh-jupyter:delete-run';
  export const insertCell = 'dh-jupyter:insert-dhrun-cell';
}

const CATEGORY = 'Kubernetes runs';

/**
 * What the commands that act on one run take: its name.
 */
const ONE_RUN = {
  args: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The name of the run' }
    },
    required: ['name']
  }
};

/**
 * What the commands that take nothing take.
 */
const NO_ARGS = { args: { type: 'object', properties: {} } };

/**
 * The panel's icon: a run (the triangle) inside a cluster's node.
 */
export const runsIcon = new LabIcon({
  name: 'dh-jupyter:runs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" ' +
    'viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161" ' +
    'fill-rule="evenodd"><path d="M12 1.5l9.1 5.25v10.5L12 22.5l-9.1-5.25' +
    'V6.75zm0 2.3L4.9 7.9v8.2l7.1 4.1 7.1-4.1V7.9z"/>' +
    '<path d="M9.5 8v8l6.5-4z"/></g></svg>'
});

/**
 * The "Kubernetes runs" panel, its log tabs, and the %%dhrun cell command.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'dh-jupyter:plugin',
  description:
    'Lists your dh_jupyter runs with live status, opens their logs and ' +
    'cancels them.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null
  ) => {
    const { commands, shell } = app;
    const client = createClient(app.serviceManager.serverSettings);
    const model = new RunsModel({ client });

    const panel = new RunsPanel(model, {
      openLogs: name => void commands.execute(CommandIDs.openLogs, { name }),
      cancel: name => void commands.execute(CommandIDs.cancel, { name }),
      remove: name => void commands.execute(CommandIDs.remove, { name }),
      insertCell: () => void commands.execute(CommandIDs.insertCell)
    });
    panel.id = 'dh-jupyter-runs';
    panel.title.icon = runsIcon;
    panel.title.caption = 'Kubernetes runs';
    shell.add(panel, 'left', { rank: 600 });

    const logs = new WidgetTracker<MainAreaWidget<LogsView>>({
      namespace: 'dh-jupyter-logs'
    });

    commands.addCommand(CommandIDs.openPanel, {
      label: 'Show Kubernetes Runs',
      caption: 'Show the list of your runs',
      icon: runsIcon,
      describedBy: NO_ARGS,
      execute: () => shell.activateById(panel.id)
    });

    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Kubernetes Runs',
      describedBy: NO_ARGS,
      execute: () => model.refresh()
    });

    commands.addCommand(CommandIDs.openLogs, {
      label: args => (args.name ? `Logs of ${args.name}` : 'Open Run Logs'),
      describedBy: ONE_RUN,
      execute: async args => {
        const name = String(args.name ?? '');
        // Log tabs are opened later, if ever: their code loads then.
        const { LogsView } = await import('./logs');
        const open = logs.find(tab => tab.content.runName === name);
        if (open) {
          shell.activateById(open.id);
          return open;
        }
        const tab = new MainAreaWidget({ content: new LogsView(client, name) });
        tab.id = `dh-jupyter-logs-tab-${name}`;
        tab.title.label = `Logs: ${name}`;
        tab.title.icon = runsIcon;
        tab.title.closable = true;
        void logs.add(tab);
        shell.add(tab, 'main');
        shell.activateById(tab.id);
        return tab;
      }
    });

    // Both actions ask first; a failure shows the server's sentence.
    const confirmThen = async (
      act: () => Promise<unknown>,
      question: string,
      body: string,
      label: string,
      failure: string
    ) => {
      const answer = await showDialog({
        title: question,
        body,
        buttons: [
          Dialog.cancelButton({ label: 'Keep it' }),
          Dialog.warnButton({ label })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await act();
      } catch (error) {
        const problem = problemOf(error, 'run');
        await showErrorMessage(
          failure,
          [problem.summary, problem.detail].filter(Boolean).join(' ')
        );
      }
    };

    commands.addCommand(CommandIDs.cancel, {
      label: args => (args.name ? `Cancel ${args.name}` : 'Cancel Run'),
      describedBy: ONE_RUN,
      execute: args => {
        const name = String(args.name ?? '');
        return confirmThen(
          () => model.cancel(name),
          `Cancel ${name}?`,
          cancelWords(model.find(name)?.backend ?? model.backend),
          'Cancel run',
          `${name} could not be cancelled`
        );
      }
    });

    commands.addCommand(CommandIDs.remove, {
      label: args => (args.name ? `Delete ${args.name}` : 'Delete Run'),
      describedBy: ONE_RUN,
      execute: args => {
        const name = String(args.name ?? '');
        return confirmThen(
          () => model.remove(name),
          `Delete ${name}?`,
          'The run and its logs are removed (on a cluster: its Job); this ' +
            'cannot be undone.',
          'Delete',
          `${name} could not be deleted`
        );
      }
    });

    commands.addCommand(CommandIDs.insertCell, {
      label: 'Insert a %%dhrun Cell',
      caption: 'Insert a cell that runs as a Kubernetes Job',
      icon: runsIcon,
      describedBy: NO_ARGS,
      isEnabled: () => !!notebooks?.currentWidget?.content.model,
      execute: () => {
        const current = notebooks?.currentWidget;
        const notebook = current?.content;
        const shared = notebook?.model?.sharedModel;
        if (!current || !notebook || !shared) {
          return;
        }
        const sources = shared.cells.map(cell => cell.getSource());
        const cells = cellsToInsert(sources);
        const index = notebook.activeCellIndex + 1;
        shared.insertCells(
          index,
          cells.map(source => ({ cell_type: 'code', source, metadata: {} }))
        );
        notebook.activeCellIndex = index + cells.length - 1;
        notebook.mode = 'edit';
        shell.activateById(current.id);

        // The cursor waits at the end of the flags, where the user types.
        const cell = notebook.activeCell;
        void cell?.ready.then(() => {
          cell.editor?.setCursorPosition({
            line: 0,
            column: DHRUN_CELL.indexOf('\n')
          });
          cell.editor?.focus();
        });
      }
    });

    if (palette) {
      for (const command of [
        CommandIDs.insertCell,
        CommandIDs.openPanel,
        CommandIDs.refresh
      ]) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    if (restorer) {
      restorer.add(panel, 'dh-jupyter-runs');
      void restorer.restore(logs, {
        command: CommandIDs.openLogs,
        args: tab => ({ name: tab.content.runName }),
        name: tab => tab.content.runName
      });
    }
  }
};

/**
 * What Cancel does to a run on `backend`, for the confirmation dialog.
 */
export function cancelWords(backend: string): string {
  if (backend === 'local') {
    return (
      'The run stops now; it stays in the list as cancelled, with its ' +
      'logs, until you delete it.'
    );
  }
  // A Job is stopped by deleting it, with its pods and their logs.
  return (
    'The run stops now; on a cluster that deletes its Job and pods, so it ' +
    'leaves the list with its logs.'
  );
}

export default plugin;
