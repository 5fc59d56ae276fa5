import { cellsToInsert, DHRUN_CELL, LOAD_EXT_CELL } from '../cells';

describe('cellsToInsert', () => {
  it.each<[string, string[], string[]]>([
    ['an empty notebook', [], [LOAD_EXT_CELL, DHRUN_CELL]],
    [
      'a notebook without the extension',
      ['import torch'],
      [LOAD_EXT_CELL, DHRUN_CELL]
    ],
    ['a notebook that loads it', ['%load_ext dh_jupyter'], [DHRUN_CELL]],
    [
      'a notebook that reloads it',
      ['x = 1\n%reload_ext dh_jupyter'],
      [DHRUN_CELL]
    ],
    [
      'another extension only',
      ['%load_ext dh_jupyter_extra'],
      [LOAD_EXT_CELL, DHRUN_CELL]
    ],
    [
      'a mention in a comment',
      ['# %load_ext dh_jupyter later'],
      [LOAD_EXT_CELL, DHRUN_CELL]
    ]
  ])('inserts the right cells into %s', (_, sources, expected) => {
    expect(cellsToInsert(sources)).toEqual(expected);
  });

  it('starts the run cell with the cell magic on its first line', () => {
    expect(DHRUN_CELL.split('\n')[0]).toMatch(/^%%dhrun( |$)/);
  });
});
