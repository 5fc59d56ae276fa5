/**
 * How a run's fields read in the panel: ages, resources, status marks.
 *
 * Words match the Python side (`3 min 12 s`, Kubernetes quantities as the
 * user wrote them), so the panel, the cell output and the docs agree.
 */

import { Phase, Resources } from './api';

/**
 * An age or a duration in the largest whole unit: `42 s`, `5 min`, `3 h`.
 */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !isFinite(seconds)) {
    return '';
  }
  const whole = Math.max(0, Math.floor(seconds));
  if (whole < 60) {
    return `${whole} s`;
  }
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min`;
  }
  if (whole < 86400) {
    return `${Math.floor(whole / 3600)} h`;
  }
  return `${Math.floor(whole / 86400)} d`;
}

// The kinds users ask for most come first; the rest follow by name.
const KIND_ORDER = ['cpu', 'mem', 'gpu'];

/**
 * Resources on one line: `cpu 1–2 · mem 16Gi · gpu 1`.
 *
 * A kind shows its request; when the limit differs, `request–limit`.
 */
export function formatResources(resources: Resources): string {
  const kinds = Object.keys(resources).sort((a, b) => {
    const rank = (kind: string) => {
      const index = KIND_ORDER.indexOf(kind);
      return index < 0 ? KIND_ORDER.length : index;
    };
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  const parts: string[] = [];
  for (const kind of kinds) {
    const { requests, limits } = resources[kind];
    let amount = requests ?? limits ?? '';
    if (requests && limits && requests !== limits) {
      amount = `${requests}–${limits}`;
    }
    if (amount) {
      parts.push(`${kind} ${amount}`);
    }
  }
  return parts.join(' · ');
}

/**
 * The CSS modifier of a phase: `dh-mod-running`, `dh-mod-pulling`.
 */
export function phaseClass(phase: Phase): string {
  return `dh-mod-${phase.split(' ')[0]}`;
}

const SYMBOLS: Record<Phase, string> = {
  queued: '◷',
  pending: '◷',
  'pulling image': '⇣',
  running: '▶',
  succeeded: '✔',
  failed: '✖',
  cancelled: '⊘'
};

/**
 * A one-character mark for a phase; colour comes from the stylesheet.
 */
export function phaseSymbol(phase: Phase): string {
  return SYMBOLS[phase] ?? '•';
}

/**
 * The file name of a notebook path: `work/train.ipynb` → `train.ipynb`.
 */
export function notebookLabel(path: string): string {
  const parts = path.split('/').filter(part => part.length > 0);
  return parts.length > 0 ? parts[parts.length - 1] : '';
}
