/**
 * The cells the "Insert a %%dhrun cell" command adds to a notebook.
 *
 * A `%%dhrun` cell only works once the extension is loaded in the kernel,
 * so when no cell of the notebook loads it, a `%load_ext dh_jupyter` cell
 * comes first.
 */

/**
 * The new run cell: a small request the user edits before running it.
 */
export const DHRUN_CELL = '%%dhrun --cpu 1 --mem 2Gi\n';

/**
 * The cell that loads the magics.
 */
export const LOAD_EXT_CELL = '%load_ext dh_jupyter';

const LOADS_EXTENSION = /^\s*%(load_ext|reload_ext)\s+dh_jupyter\b/m;

/**
 * The sources of the cells to insert into a notebook whose cells are
 * `sources`.
 */
export function cellsToInsert(sources: readonly string[]): string[] {
  const loaded = sources.some(source => LOADS_EXTENSION.test(source));
  return loaded ? [DHRUN_CELL] : [LOAD_EXT_CELL, DHRUN_CELL];
}
