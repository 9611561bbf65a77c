/** Children of `h`: elements, or strings that become text nodes (never parsed as markup). */
export type Child = Node | string;

/**
 * Creates an element with attributes and children. Strings always become text nodes: the one way this
 * page puts text on screen, so nothing the model or the user writes is ever read as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string>> = {},
  ...children: readonly Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** The element with `id`, of the expected type; a page without it is a bug worth failing loudly on. */
export function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the demo page has no ${type.name} #${id}`);
  return el;
}
