import { RunsAPIError } from '../api';
import { ProblemKind, problemOf } from '../problems';

describe('problemOf', () => {
  it.each<[string, RunsAPIError, ProblemKind]>([
    [
      'a 404 page',
      new RunsAPIError(404, '404 Not Found', ''),
      'server-missing'
    ],
    [
      'no answer',
      new RunsAPIError(0, 'The Jupyter server did not answer', 'NetworkError'),
      'server-down'
    ],
    ['a lost login', new RunsAPIError(403, 'Forbidden', ''), 'logged-out'],
    [
      "the Authorizer's refusal",
      new RunsAPIError(
        403,
        'Your Jupyter account may not use the runs panel; ask the ' +
          "administrator to allow the 'dh-jupyter' resource.",
        'NotAuthorizedError'
      ),
      'not-allowed'
    ],
    [
      "jupyter_server's own refusal",
      new RunsAPIError(
        403,
        'User is not authorized to read on resource: dh-jupyter.',
        ''
      ),
      'not-allowed'
    ],
    [
      'an unreachable cluster',
      new RunsAPIError(
        503,
        'The API server did not answer.',
        'ClusterUnavailableError'
      ),
      'cluster-unreachable'
    ],
    [
      'rejected credentials',
      new RunsAPIError(
        502,
        'The cluster rejected the token.',
        'CredentialsError'
      ),
      'cluster-unreachable'
    ],
    [
      'an RBAC refusal',
      new RunsAPIError(403, 'jobs is forbidden.', 'PermissionDeniedError'),
      'forbidden'
    ],
    [
      'a server bug',
      new RunsAPIError(500, 'Unhandled error', ''),
      'server-down'
    ]
  ])('reads %s as %p', (_, error, kind) => {
    expect(problemOf(error).kind).toBe(kind);
  });

  it('tells a refused user whom to ask, not to reload the page', () => {
    const problem = problemOf(
      new RunsAPIError(403, 'refused', 'NotAuthorizedError')
    );
    expect(problem.summary).toBe(
      'Your Jupyter account may not use the runs panel; ask the ' +
        "administrator to allow the 'dh-jupyter' resource."
    );
    expect(problem.summary).not.toContain('reload');
  });

  it('says what to install when the server extension is missing', () => {
    const problem = problemOf(new RunsAPIError(404, '404 Not Found', ''));
    expect(problem.summary).toContain('pip install dh_jupyter');
    expect(problem.detail).toBe('');
  });

  it('keeps the server sentence as the detail of a cluster problem', () => {
    const message =
      'The API server at https://k8s.example:6443 did not answer.';
    const problem = problemOf(
      new RunsAPIError(503, message, 'ClusterUnavailableError')
    );
    expect(problem.summary).toMatch(/cannot be reached; check your kubeconfig/);
    expect(problem.detail).toBe(message);
  });

  it('calls a missing run not found, but not a missing namespace', () => {
    const error = new RunsAPIError(
      404,
      'No namespace team-z.',
      'NotFoundError'
    );
    expect(problemOf(error, 'run').kind).toBe('not-found');
    expect(problemOf(error, 'list').kind).toBe('failed');
    expect(problemOf(error, 'list').detail).toBe('No namespace team-z.');
  });

  it('shows an unexpected error as it is', () => {
    const problem = problemOf(new TypeError('boom'));
    expect(problem.kind).toBe('failed');
    expect(problem.detail).toContain('boom');
  });

  it('says every summary in one sentence', () => {
    const errors = [
      new RunsAPIError(404, '', ''),
      new RunsAPIError(0, '', 'NetworkError'),
      new RunsAPIError(401, '', ''),
      new RunsAPIError(403, '', 'NotAuthorizedError'),
      new RunsAPIError(503, '', 'ClusterUnavailableError'),
      new RunsAPIError(403, '', 'PermissionDeniedError'),
      new RunsAPIError(404, '', 'NotFoundError')
    ];
    for (const error of errors) {
      const { summary } = problemOf(error, 'run');
      expect(summary.match(/[.!?](\s|$)/g)).toHaveLength(1);
      expect(summary.endsWith('.')).toBe(true);
    }
  });
});
