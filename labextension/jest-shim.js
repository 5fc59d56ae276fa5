/**
 * jsdom has no DragEvent, which @lumino/dragdrop extends when it loads;
 * the panel never drags, so a plain MouseEvent subclass is enough.
 */
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {};
}
