/*
 * Layout checks, run inside Chromium on one screen (test/screens/document.ts). Defines
 * window.__layoutCheck(), which answers { problems: { check: [problems] }, measured }: the
 * problems of every check below, and how many tap targets and text nodes the checks met
 * (measured.tapTargets, measured.texts), so that a screen where they found nothing to measure (say,
 * data-tap marking that silently stopped) cannot pass as clean. The checks:
 *
 * - overflow:   nothing reaches past the screen's left or right edge (unless an ancestor clips it);
 * - clipped:    no text is cut by a box that hides overflow, except a deliberate single- or
 *               multi-line ellipsis;
 * - overlap:    no two visible pieces of text overlap;
 * - fullWidth:  every block (full-width) van-button spans its container's content box;
 * - tapSize:    every tap target the user can reach is at least 44 px tall, except a link inside a
 *               sentence (WCAG 2.5.8's inline exception), and no two targets overlap;
 * - tabBar:     nothing is under the tab bar, and the end of the page scrolls into view above it;
 * - homeIndicator: on a page without a tab bar, the webview reaches the bottom of the screen: no
 *               text or tap target lies in the home indicator's strip (the safe-area inset) when
 *               the page is scrolled to its end, popups and other fixed content included.
 *
 * Only what the user can see counts: an element must have a box, be visible, and be the topmost
 * thing at its centre (the dimmed page under a popup's overlay is not tappable, and its text is
 * covered, not overlapping).
 */
(function () {
  'use strict';

  const TOLERANCE = 0.5;
  const MIN_TAP = 44;

  function describe(el) {
    const tag = el.tagName.toLowerCase();
    const cls = (el.getAttribute('class') || '').trim().split(/\s+/).filter(Boolean)[0];
    const id = el.getAttribute('id');
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 24);
    return `<${tag}${id ? `#${id}` : ''}${cls ? `.${cls}` : ''}>${text ? ` "${text}"` : ''}`;
  }
  const round = (n) => Math.round(n * 10) / 10;
  const box = (r) => `[${round(r.left)},${round(r.top)} ${round(r.width)}×${round(r.height)}]`;

  function isRendered(el) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return false;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.visibility === 'hidden' || style.display === 'none' || Number(style.opacity) === 0) return false;
    }
    return true;
  }

  const webview = document.querySelector('.wx-webview');
  const frame = document.querySelector('.wx-webview-frame');
  const tabBar = document.querySelector('.wx-tab-bar');

  /** Runs `fn` with the page scrolled to each screenful in turn, top to bottom, then back to the top. */
  function eachScreenful(fn) {
    const height = webview.clientHeight;
    for (let top = 0; ; top += height) {
      webview.scrollTop = top;
      fn();
      if (top + height >= webview.scrollHeight) break;
    }
    webview.scrollTop = 0;
  }

  /** Whether `rect`'s centre is on screen (inside the webview frame). */
  function onScreen(rect) {
    const view = frame.getBoundingClientRect();
    const cx = rect.left + rect.width / 2;
    const cy = rect.top + rect.height / 2;
    return cx >= view.left && cx <= view.right && cy >= view.top && cy <= view.bottom;
  }

  /** Whether `el` (or its content) is what a finger or an eye meets at the centre of `rect`. */
  function isTopmost(el, rect) {
    const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
    return !!hit && (hit === el || el.contains(hit) || hit.contains(el));
  }

  /** The ancestors (up to the webview) that hide overflow, nearest first. */
  function clippingAncestors(el) {
    const out = [];
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.overflowX !== 'visible' || style.overflowY !== 'visible') out.push({ node, style });
      if (node === webview) break;
    }
    return out;
  }

  function allElements() {
    return Array.from(webview.querySelectorAll('*')).filter(isRendered);
  }

  /** Every line box of visible text, with the node it belongs to. */
  function textPieces() {
    const pieces = [];
    const walker = document.createTreeWalker(webview, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || !node.parentElement || !isRendered(node.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of Array.from(range.getClientRects())) {
        if (rect.width > 0 && rect.height > 0) pieces.push({ node, el: node.parentElement, rect });
      }
    }
    return pieces;
  }

  function checkOverflow() {
    const problems = [];
    const screen = webview.getBoundingClientRect();
    if (webview.scrollWidth > webview.clientWidth + TOLERANCE) problems.push(`the page is ${webview.scrollWidth}px wide on a ${webview.clientWidth}px screen`);
    for (const el of allElements()) {
      const rect = el.getBoundingClientRect();
      if (rect.left >= screen.left - TOLERANCE && rect.right <= screen.right + TOLERANCE) continue;
      const clipped = clippingAncestors(el).some(({ node }) => {
        if (node === webview) return false;
        const r = node.getBoundingClientRect();
        return r.left >= screen.left - TOLERANCE && r.right <= screen.right + TOLERANCE;
      });
      if (!clipped) problems.push(`${describe(el)} ${box(rect)} reaches past the screen (0–${round(screen.width)})`);
    }
    return problems;
  }

  function checkClipped() {
    const problems = [];
    for (const { el, rect } of textPieces()) {
      for (const { node, style } of clippingAncestors(el)) {
        const r = node.getBoundingClientRect();
        const scrolls = /auto|scroll/.test(style.overflowY);
        const outX = rect.left < r.left - TOLERANCE || rect.right > r.right + TOLERANCE;
        const outY = !scrolls && (rect.top < r.top - TOLERANCE || rect.bottom > r.bottom + TOLERANCE);
        // A deliberate cut the user can see: a single-line ellipsis, or a line clamp.
        const ellipsis = style.textOverflow === 'ellipsis' || getComputedStyle(el).textOverflow === 'ellipsis';
        const clamped = style.webkitLineClamp && style.webkitLineClamp !== 'none';
        if ((outX && !ellipsis) || (outY && !clamped)) {
          problems.push(`text "${el.textContent.trim().slice(0, 24)}" ${box(rect)} is cut off by ${describe(node)} ${box(r)}`);
          break;
        }
      }
    }
    return problems;
  }

  function checkOverlap(measured) {
    const problems = new Set();
    const seen = new Set();
    eachScreenful(() => {
      // What shows of each piece: an ellipsis'd title ends where its box cuts it, not where its text would.
      const visible = textPieces()
        .map((p) => ({ ...p, rect: visibleTextRect(p) }))
        .filter((p) => p.rect.width > 1 && p.rect.height > 1 && onScreen(p.rect) && isTopmost(p.el, p.rect));
      for (const piece of visible) seen.add(piece.node);
      for (let i = 0; i < visible.length; i++) {
        for (let j = i + 1; j < visible.length; j++) {
          const a = visible[i];
          const b = visible[j];
          if (a.node === b.node) continue;
          const w = Math.min(a.rect.right, b.rect.right) - Math.max(a.rect.left, b.rect.left);
          const h = Math.min(a.rect.bottom, b.rect.bottom) - Math.max(a.rect.top, b.rect.top);
          if (w > 1 && h > 1) problems.add(`text "${a.node.textContent.trim().slice(0, 20)}" overlaps "${b.node.textContent.trim().slice(0, 20)}"`);
        }
      }
    });
    measured.texts = seen.size;
    return [...problems];
  }

  function contentBox(el) {
    let container = el.parentElement;
    while (container && getComputedStyle(container).display.startsWith('inline')) container = container.parentElement;
    const r = container.getBoundingClientRect();
    const s = getComputedStyle(container);
    const left = r.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft);
    const right = r.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight);
    return { container, left, right, width: right - left };
  }

  function checkFullWidth() {
    const problems = [];
    const blocks = Array.from(webview.querySelectorAll('wx-button')).filter((el) => /(^|\s)van-button--van-button--block(\s|$)/.test(el.getAttribute('class') || ''));
    for (const el of blocks.filter(isRendered)) {
      const rect = el.getBoundingClientRect();
      const content = contentBox(el);
      if (rect.width < content.width - 1 || rect.left > content.left + 1) {
        problems.push(`${describe(el)} is ${round(rect.width)}px wide in a ${round(content.width)}px wide ${describe(content.container)}`);
      }
    }
    return problems;
  }

  /** A link inside running text: inline, in a block that also holds other words. */
  function isInlineLink(el) {
    if (!getComputedStyle(el).display.startsWith('inline')) return false;
    const block = contentBox(el).container;
    return (block.textContent || '').trim().length > (el.textContent || '').trim().length;
  }

  function checkTapTargets(measured) {
    const problems = new Set();
    const seen = new Set();
    eachScreenful(() => {
      const targets = Array.from(webview.querySelectorAll('[data-tap]'))
        .filter(isRendered)
        .map((el) => ({ el, rect: el.getBoundingClientRect() }))
        .filter(({ el, rect }) => onScreen(rect) && isTopmost(el, rect));
      for (const { el, rect } of targets) {
        if (seen.has(el)) continue;
        seen.add(el);
        // Part of a larger target (an icon inside a cell): the finger meets the larger one's area.
        const insideTarget = el.parentElement && el.parentElement.closest('[data-tap]');
        if (rect.height < MIN_TAP - TOLERANCE && !isInlineLink(el) && !insideTarget) problems.add(`${describe(el)} is ${round(rect.height)}px tall, under ${MIN_TAP}px`);
      }
      for (let i = 0; i < targets.length; i++) {
        for (let j = i + 1; j < targets.length; j++) {
          const a = targets[i];
          const b = targets[j];
          if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
          const w = Math.min(a.rect.right, b.rect.right) - Math.max(a.rect.left, b.rect.left);
          const h = Math.min(a.rect.bottom, b.rect.bottom) - Math.max(a.rect.top, b.rect.top);
          if (w > TOLERANCE && h > TOLERANCE) problems.add(`tap targets ${describe(a.el)} and ${describe(b.el)} overlap by ${round(h)}px`);
        }
      }
    });
    measured.tapTargets = seen.size;
    return [...problems];
  }

  /**
   * `rect` cut by every ancestor from `node` up that hides overflow, except that fixed-position
   * content escapes the scrolling page (its containing block is the frame). With `scrolled: false`
   * the scrolling page does not cut either (where the box would be if scrolled to).
   */
  function clipByAncestors(node, rect, scrolled, fixed) {
    let [left, top, right, bottom] = [rect.left, rect.top, rect.right, rect.bottom];
    for (; node && node !== frame; node = node.parentElement) {
      const style = getComputedStyle(node);
      const clips = style.overflowX !== 'visible' || style.overflowY !== 'visible';
      if (clips && !fixed && (scrolled || node !== webview)) {
        const c = node.getBoundingClientRect();
        [left, top, right, bottom] = [Math.max(left, c.left), Math.max(top, c.top), Math.min(right, c.right), Math.min(bottom, c.bottom)];
      }
      if (style.position === 'fixed') fixed = true;
    }
    return { left, top, right, bottom, width: Math.max(0, right - left), height: Math.max(0, bottom - top), fixed };
  }

  /** The part of `el` that can be seen. */
  function visibleRect(el, scrolled = true) {
    return clipByAncestors(el.parentElement, el.getBoundingClientRect(), scrolled, getComputedStyle(el).position === 'fixed');
  }

  /** The part of a line of text that can be seen (its own element's overflow cuts it too). */
  function visibleTextRect(piece) {
    return clipByAncestors(piece.el, piece.rect, true, false);
  }

  function checkTabBar() {
    if (!tabBar) return [];
    const problems = new Set();
    const bar = tabBar.getBoundingClientRect();
    eachScreenful(() => {
      for (const el of allElements()) {
        const v = visibleRect(el);
        if (v.width > TOLERANCE && v.bottom > bar.top + TOLERANCE && v.top < bar.bottom - TOLERANCE) {
          problems.add(`${describe(el)} is under the tab bar (down to ${round(v.bottom)}, the bar starts at ${round(bar.top)})`);
        }
      }
    });
    // Scrolled to the end, the last of the page is above the tab bar.
    webview.scrollTop = webview.scrollHeight;
    const inFlow = allElements().map((el) => visibleRect(el, false)).filter((v) => !v.fixed && v.bottom > v.top);
    const lowest = Math.max(0, ...inFlow.map((v) => v.bottom));
    if (lowest > bar.top + TOLERANCE) problems.add(`the end of the page (${round(lowest)}) never scrolls above the tab bar (${round(bar.top)})`);
    webview.scrollTop = 0;
    return [...problems];
  }

  function checkHomeIndicator() {
    const inset = parseFloat(getComputedStyle(document.querySelector('.wx-phone')).getPropertyValue('--safe-bottom')) || 0;
    if (tabBar || inset === 0) return [];
    const strip = frame.getBoundingClientRect().bottom - inset;
    const problems = new Set();
    webview.scrollTop = webview.scrollHeight;
    const inStrip = (rect) => rect.width > TOLERANCE && rect.bottom > strip + TOLERANCE;
    for (const el of webview.querySelectorAll('[data-tap]')) {
      if (!isRendered(el)) continue;
      const v = visibleRect(el);
      if (inStrip(v) && isTopmost(el, el.getBoundingClientRect())) problems.add(`${describe(el)} reaches down to ${round(v.bottom)}, into the home indicator's strip (from ${round(strip)})`);
    }
    for (const piece of textPieces()) {
      const v = visibleTextRect(piece);
      if (inStrip(v) && isTopmost(piece.el, piece.rect)) problems.add(`text "${piece.node.textContent.trim().slice(0, 20)}" reaches down to ${round(v.bottom)}, into the home indicator's strip (from ${round(strip)})`);
    }
    webview.scrollTop = 0;
    return [...problems];
  }

  window.__layoutCheck = function () {
    /** Tap targets whose size was checked, and text nodes checked for overlap: the ones a user meets. */
    const measured = { tapTargets: 0, texts: 0 };
    const problems = {
      overflow: checkOverflow(),
      clipped: checkClipped(),
      overlap: checkOverlap(measured),
      fullWidth: checkFullWidth(),
      tapSize: checkTapTargets(measured),
      tabBar: checkTabBar(),
      homeIndicator: checkHomeIndicator(),
    };
    return { problems, measured };
  };
})();
