/**
 * The rendered page as HTML a browser can lay out. j-component's DOM keeps WeChat's element names
 * (`wx-view`, `van-cell`) and per-component class prefixes, which the compiled WXSS targets, but
 * leaves some template attributes off the DOM (on each node's `_vt.attrs`). They are put back here
 * the way WeChat's own elements would show them:
 * - `<image src mode>` becomes a background image (WeChat draws images that way), with the remote
 *   URL swapped for a local stand-in;
 * - `<input value placeholder password>` gets its text (dots for a password), `<button type size plain disabled>` its attributes
 *   (the built-in stylesheet keys on them), every node its WXML id;
 * - what a finger can use (see isTappable) is marked `data-tap`, which is how the layout checks
 *   know what has to be big enough to hit.
 */

interface VirtualNode {
  attrs?: { name: string; value: unknown }[];
  event?: Record<string, { handler?: string }>;
}
interface WxElement {
  __id?: string;
  _vt?: VirtualNode;
  /** The shadow tree the element belongs to; its host is the component whose template made it. */
  ownerShadowRoot?: { __wxHost?: WxElement & { $$?: unknown } } | null;
}
type DomNode = {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
  attributes?: ArrayLike<{ name: string; value: string }>;
  __wxElement?: WxElement;
};

export type ImageResolver = (src: string) => string;

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (text: string) => escapeText(text).replace(/"/g, '&quot;');

/** WeChat's image modes as CSS background sizing. */
const IMAGE_MODES: Record<string, string> = {
  scaleToFill: 'background-size:100% 100%',
  aspectFit: 'background-size:contain;background-position:center;background-repeat:no-repeat',
  aspectFill: 'background-size:cover;background-position:center',
  widthFix: 'background-size:100% 100%',
};

function templateAttr(node: DomNode, name: string): unknown {
  const attrs = node.__wxElement?._vt?.attrs || [];
  const found = attrs.find((a) => a.name === name);
  return found ? found.value : undefined;
}

const hasHandler = (events: VirtualNode['event'] = {}) => Object.values(events).some((e) => !!e.handler);

/**
 * Whether a finger on `node` does something. A native button always can (submit, open-type). A tap
 * handler counts when it is the page's own, or when its component is listened to by whoever uses
 * it: Vant's icon, for one, handles every tap only to re-emit `click`, which nobody may be bound to.
 */
function isTappable(node: DomNode, tag: string, root: unknown): boolean {
  if (tag === 'wx-button') return !templateAttr(node, 'disabled');
  const events = node.__wxElement?._vt?.event || {};
  if (!['tap', 'longpress'].some((name) => events[name] && events[name].handler)) return false;
  const host = node.__wxElement?.ownerShadowRoot?.__wxHost;
  return !host || host.$$ === root || hasHandler(host._vt?.event);
}

/** Serialises `root` (a j-component root's `dom`) and its subtree. */
export function serialize(root: unknown, resolveImage: ImageResolver): string {
  const out: string[] = [];
  const walk = (node: DomNode) => {
    if (node.nodeType === 3) {
      out.push(escapeText(node.textContent || ''));
      return;
    }
    if (node.nodeType !== 1) return;
    const tag = node.nodeName.toLowerCase();
    const attrs = new Map<string, string>();
    for (const { name, value } of Array.from(node.attributes || [])) attrs.set(name, value);
    const id = node.__wxElement?.__id;
    if (id) attrs.set('id', id);
    if (isTappable(node, tag, root)) attrs.set('data-tap', '');
    let inner: string | null = null;

    if (tag === 'wx-image') {
      const src = String(templateAttr(node, 'src') || '');
      const mode = String(templateAttr(node, 'mode') || 'scaleToFill');
      const sizing = IMAGE_MODES[mode] || IMAGE_MODES.scaleToFill;
      if (src) attrs.set('style', `background-image:url("${resolveImage(src)}");${sizing};${attrs.get('style') || ''}`);
    } else if (tag === 'wx-input') {
      const value = String(templateAttr(node, 'value') ?? '');
      const placeholder = String(templateAttr(node, 'placeholder') ?? '');
      // A password field shows a dot per character, as WeChat's does.
      const shown = templateAttr(node, 'password') ? '•'.repeat([...value].length) : value;
      inner = value
        ? `<span class="wx-input__value">${escapeText(shown)}</span>`
        : `<span class="wx-input__placeholder">${escapeText(placeholder)}</span>`;
    } else if (tag === 'wx-button') {
      for (const name of ['type', 'size', 'plain', 'disabled', 'loading']) {
        const value = templateAttr(node, name);
        if (value !== undefined && value !== false && value !== '' && value !== null) attrs.set(name, value === true ? '' : String(value));
      }
    }

    out.push(`<${tag}`);
    for (const [name, value] of attrs) out.push(value === '' ? ` ${name}` : ` ${name}="${escapeAttr(value)}"`);
    out.push('>');
    if (inner !== null) out.push(inner);
    else Array.from(node.childNodes).forEach(walk);
    out.push(`</${tag}>`);
  };
  walk(root as DomNode);
  return out.join('');
}
