/** Small DOM helpers for the console: elements by test id, and text-only element building (never HTML). */

export function byTestId<T extends HTMLElement>(testid: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`missing element ${testid}`);
  return el;
}

type Attrs = Record<string, string | undefined>;

/** `el('span', { class: 'x', 'data-testid': 'y' }, 'text', child)`: attributes and text nodes only. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A message line: text, and `data-kind` for its colour (error, ok or info). Empty text hides nothing: the line just collapses. */
export function say(line: HTMLElement, text: string, kind: 'error' | 'ok' | 'info' = 'info'): void {
  line.textContent = text;
  line.dataset.kind = kind;
}

let ids = 0;
/** A fresh id for label/input pairs. */
export const uniqueId = (prefix: string) => `${prefix}-${++ids}`;

const WHEN = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' });
export function timeElement(iso: string): HTMLTimeElement {
  const date = new Date(iso);
  const node = el('time', { datetime: iso, title: iso }, Number.isNaN(date.getTime()) ? iso : WHEN.format(date));
  return node;
}
