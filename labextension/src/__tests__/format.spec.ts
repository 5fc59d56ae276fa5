import { Phase, Resources } from '../api';
import {
  formatAge,
  formatResources,
  notebookLabel,
  phaseClass,
  phaseSymbol
} from '../format';

describe('formatAge', () => {
  it.each([
    [null, ''],
    [0, '0 s'],
    [42.9, '42 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600, '1 h'],
    [86399, '23 h'],
    [3 * 86400, '3 d'],
    [-5, '0 s'],
    [NaN, '']
  ])('shows %p seconds as %p', (seconds, expected) => {
    expect(formatAge(seconds as number | null)).toBe(expected);
  });
});

describe('formatResources', () => {
  it.each<[Resources, string]>([
    [{}, ''],
    [{ cpu: { requests: '1' } }, 'cpu 1'],
    [{ cpu: { requests: '1', limits: '2' } }, 'cpu 1–2'],
    [{ cpu: { requests: '1', limits: '1' } }, 'cpu 1'],
    [{ gpu: { limits: '1' } }, 'gpu 1'],
    [
      {
        gpu: { limits: '1' },
        mem: { requests: '16Gi' },
        cpu: { requests: '500m' },
        'ephemeral-storage': { requests: '1Gi' }
      },
      'cpu 500m · mem 16Gi · gpu 1 · ephemeral-storage 1Gi'
    ]
  ])('shows %j as %p', (resources, expected) => {
    expect(formatResources(resources)).toBe(expected);
  });
});

describe('phase marks', () => {
  it.each<[Phase, string]>([
    ['queued', 'dh-mod-queued'],
    ['pulling image', 'dh-mod-pulling'],
    ['running', 'dh-mod-running'],
    ['failed', 'dh-mod-failed']
  ])('gives %p the class %p', (phase, expected) => {
    expect(phaseClass(phase)).toBe(expected);
  });

  it('gives every phase its own symbol, finished ones differing', () => {
    const finished: Phase[] = ['succeeded', 'failed', 'cancelled'];
    const symbols = finished.map(phaseSymbol);
    expect(new Set(symbols).size).toBe(finished.length);
    expect(phaseSymbol('running')).not.toBe(phaseSymbol('pending'));
  });
});

describe('notebookLabel', () => {
  it.each([
    ['work/train.ipynb', 'train.ipynb'],
    ['train.ipynb', 'train.ipynb'],
    ['', '']
  ])('labels %p as %p', (path, expected) => {
    expect(notebookLabel(path)).toBe(expected);
  });
});
