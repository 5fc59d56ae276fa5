import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

import {
  ILogChunk,
  ILogQuery,
  IRun,
  IRunList,
  IRunsClient,
  RunsAPIError
} from './api';

/**
 * The runs API's root under the Jupyter server's base URL.
 */
export const API_ROOT = 'dh-jupyter/runs';

/**
 * Call the dh_jupyter server extension and return the parsed JSON answer.
 *
 * Every failure becomes a `RunsAPIError`, so callers can tell a missing
 * server extension, a cluster problem and a dropped connection apart.
 *
 * @param endPoint The path below `/dh-jupyter/runs`.
 * @param serverSettings The Jupyter server to call.
 * @param init The request's method and body.
 * @param query The query string's parameters.
 * @returns The answer's JSON, or undefined for an empty answer.
 */
export async function requestAPI<T>(
  endPoint: string,
  serverSettings: ServerConnection.ISettings,
  init: RequestInit = {},
  query?: URLSearchParams
): Promise<T> {
  let url = URLExt.join(serverSettings.baseUrl, API_ROOT, endPoint);
  if (query) {
    url += `?${query}`;
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, serverSettings);
  } catch (error) {
    throw new RunsAPIError(
      0,
      `The Jupyter server did not answer: ${String(error)}`,
      'NetworkError'
    );
  }

  const text = await response.text();
  let data: any = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      // An HTML error page: the request never reached dh_jupyter.
      data = undefined;
    }
  }

  if (!response.ok) {
    const message =
      typeof data?.message === 'string'
        ? data.message
        : `${response.status} ${response.statusText}`;
    const kind = typeof data?.error === 'string' ? data.error : '';
    throw new RunsAPIError(response.status, message, kind);
  }
  return data as T;
}

/**
 * A runs client that talks to the Jupyter server at `serverSettings`.
 */
export function createClient(
  serverSettings: ServerConnection.ISettings
): IRunsClient {
  const path = (name: string, ...rest: string[]) =>
    [encodeURIComponent(name), ...rest].join('/');

  return {
    list: () => requestAPI<IRunList>('', serverSettings),
    get: (name: string) => requestAPI<IRun>(path(name), serverSettings),
    logs: (name: string, query: ILogQuery) => {
      const params = new URLSearchParams({ offset: String(query.offset) });
      if (query.wait !== undefined) {
        params.set('wait', String(query.wait));
      }
      if (query.tail !== undefined) {
        params.set('tail', String(query.tail));
      }
      return requestAPI<ILogChunk>(
        path(name, 'logs'),
        serverSettings,
        {},
        params
      );
    },
    cancel: (name: string) =>
      requestAPI<IRun>(path(name, 'cancel'), serverSettings, {
        method: 'POST'
      }),
    remove: async (name: string) => {
      await requestAPI<void>(path(name), serverSettings, { method: 'DELETE' });
    }
  };
}
