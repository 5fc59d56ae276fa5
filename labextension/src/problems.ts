/**
 * What went wrong, said in one sentence with what to do about it.
 *
 * The panel shows a problem instead of the list when it cannot list runs;
 * each kind of trouble gets its own sentence, and the server's own message
 * (already written for the user) follows as the detail.
 */

import { RunsAPIError } from './api';

/**
 * The kinds of trouble the panel tells apart.
 */
export type ProblemKind =
  | 'server-missing'
  | 'server-down'
  | 'logged-out'
  | 'not-allowed'
  | 'cluster-unreachable'
  | 'forbidden'
  | 'not-found'
  | 'failed';

/**
 * A problem to show: the sentence with the fix, and the server's details.
 */
export interface IProblem {
  kind: ProblemKind;
  /** One sentence: what is wrong and what to do. */
  summary: string;
  /** The server's own message, or "". */
  detail: string;
}

const SUMMARIES: Record<ProblemKind, string> = {
  'server-missing':
    'The dh_jupyter server extension is not running in this Jupyter ' +
    'server; install dh_jupyter in the environment that runs JupyterLab ' +
    '(`pip install dh_jupyter`) and restart JupyterLab.',
  'server-down':
    'The Jupyter server is not answering; check that it is still running, ' +
    'and this list will try again on its own.',
  'logged-out':
    'The Jupyter server refused the request because you are not logged ' +
    'in any more; reload this page to log in again.',
  'not-allowed':
    'Your Jupyter account may not use the runs panel; ask the ' +
    "administrator to allow the 'dh-jupyter' resource.",
  'cluster-unreachable':
    'The Kubernetes cluster cannot be reached; check your kubeconfig, VPN ' +
    'or network, and this list will try again on its own.',
  forbidden:
    'Your Kubernetes credentials are not allowed to list or change these ' +
    'runs; ask your cluster administrator for access to Jobs, Pods and ' +
    'their logs in your namespace.',
  'not-found':
    'This run no longer exists on the cluster; it was deleted, or its ' +
    'time to live ran out.',
  failed: 'The request failed; the message below says why.'
};

// jupyter_server's own words when its Authorizer refuses a logged-in user.
const NOT_AUTHORIZED = /is not authorized to \w+ on resource/;

/**
 * The problem `error` means for the user.
 *
 * @param error What a runs client call threw.
 * @param about Whether the call was about one run (a missing run is then
 *   "not found") or the whole list (a missing namespace is not that).
 */
export function problemOf(
  error: unknown,
  about: 'list' | 'run' = 'list'
): IProblem {
  if (!(error instanceof RunsAPIError)) {
    return { kind: 'failed', summary: SUMMARIES.failed, detail: String(error) };
  }
  let kind = kindOf(error);
  if (kind === 'not-found' && about === 'list') {
    kind = 'failed';
  }
  // The summary of a missing server extension says it all; a 404 page's
  // status line would add nothing.
  const detail = kind === 'server-missing' ? '' : error.message;
  return { kind, summary: SUMMARIES[kind], detail };
}

function kindOf(error: RunsAPIError): ProblemKind {
  if (error.kind === 'NetworkError') {
    return 'server-down';
  }
  if (error.kind === 'NotAuthorizedError') {
    // Logged in, but the server's Authorizer refuses the panel: reloading
    // would only ask again.
    return 'not-allowed';
  }
  if (error.kind === '') {
    // Not an answer from dh_jupyter: a 404 means no such endpoint, a 401
    // or 403 a lost login (unless jupyter_server's refusal says otherwise),
    // and anything else a server in trouble.
    if (error.status === 404) {
      return 'server-missing';
    }
    if (error.status === 403 && NOT_AUTHORIZED.test(error.message)) {
      return 'not-allowed';
    }
    if (error.status === 401 || error.status === 403) {
      return 'logged-out';
    }
    return 'server-down';
  }
  if (error.kind === 'NotFoundError') {
    return 'not-found';
  }
  if (error.kind === 'PermissionDeniedError') {
    return 'forbidden';
  }
  if (
    error.kind === 'ClusterUnavailableError' ||
    error.kind === 'CredentialsError' ||
    error.status === 502 ||
    error.status === 503
  ) {
    return 'cluster-unreachable';
  }
  return 'failed';
}
