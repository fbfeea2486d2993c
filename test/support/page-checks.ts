/**
 * What the browser suites check on every page they visit: tap targets a finger can hit on a phone,
 * and axe-core's serious and critical violations. The checks are strings evaluated in the page:
 * the tests are compiled without the DOM library.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

const AXE = join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js');

export interface PageCheckScope {
  /** Only what is inside this selector is ours (the host's header and menus are not): the whole page when absent. */
  readonly within?: string;
  /** Controls inside these selectors are not checked (a skip link, a menu with its own rules). */
  readonly exempt?: string;
}

/**
 * The controls and links that a finger would miss: visible, and less than 40 px high (or 24 px
 * wide). A checkbox or radio counts by its label (the one it sits in, else its own): tapping the label
 * ticks it. Links inside a sentence
 * are exempt (WCAG 2.5.8).
 */
export async function smallTapTargets(page: Page, scope: PageCheckScope = {}): Promise<string[]> {
  const within = JSON.stringify(scope.within ?? 'body');
  const exempt = JSON.stringify(scope.exempt ?? '');
  return (await page.evaluate(`[...document.querySelectorAll(${within})].flatMap((root) => [...root.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]).flatMap((el) => {
    const label = el.closest('label') || (el.labels && el.labels[0]);
    // The upload zone's file input, out of sight with JavaScript, is tapped through the portal's own button.
    const pick = el.matches('input[type=file]') && el.closest('.bp-drop-ready') ? el.closest('.bp-drop-ready').querySelector('.bp-drop-pick') : null;
    const target = pick || (el.matches('input[type=checkbox], input[type=radio]') && label ? label : el);
    const box = target.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || (${exempt} && el.closest(${exempt}))) return [];
    const parent = el.parentElement;
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline' && parent && parent.textContent.replace(/\\s+/g, ' ').trim().length > el.textContent.replace(/\\s+/g, ' ').trim().length + 15) return [];
    return box.height < 40 || box.width < 24 ? [el.tagName.toLowerCase() + ' "' + (el.textContent || el.getAttribute('aria-label') || el.name || el.id || '').trim().replace(/\\s+/g, ' ').slice(0, 30) + '" ' + Math.round(box.width) + 'x' + Math.round(box.height)] : [];
  })`)) as string[];
}

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/**
 * Runs axe-core on the page (or on `scope.within` only); answers the serious and critical
 * violations. axe is evaluated from the test side, so the page's CSP does not stand in its way.
 */
export async function seriousViolations(page: Page, scope: PageCheckScope = {}): Promise<string[]> {
  if (!(await page.evaluate(`typeof axe !== 'undefined'`))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const context = scope.within ? JSON.stringify({ include: [[scope.within]] }) : 'document';
  const violations = (await page.evaluate(`axe.run(${context}, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`)) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The control that has the focus, and whether a sighted keyboard user can see it (WCAG 2.4.7). */
export interface Focused {
  /** e.g. `input#bp-email "email"`, `button "Sign in"`. */
  readonly what: string;
  /** It matches :focus-visible and draws an outline (the browser's own ring, or 2 px and more) or a box shadow. */
  readonly seen: boolean;
}

export async function focused(page: Page): Promise<Focused | null> {
  return (await page.evaluate(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const ring = s.outlineStyle === 'auto' || (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
    const name = (el.getAttribute('aria-label') || el.textContent || el.name || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
    return { what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (name ? ' "' + name + '"' : ''), seen: el.matches(':focus-visible') && ring };
  })()`)) as Focused | null;
}

/**
 * Waits until the page's `expression` is true, asking every 25 ms, up to `timeoutMs`. Not
 * `page.waitForFunction` with a string: when the first answer is false it goes on polling with
 * `eval` in the page, which the portal's and the admin's Content-Security-Policy (`script-src
 * 'self'`) refuse, so the wait failed whenever the page was slower than the first look.
 * `page.evaluate` of a string goes through the browser's debugging protocol, which CSP does not
 * govern.
 */
export async function waitUntilTrue(page: Page, expression: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(`Boolean(${expression})`)) return;
    if (Date.now() > deadline) throw new Error(`Not true within ${timeoutMs} ms: ${expression}`);
    await page.waitForTimeout(25);
  }
}

/**
 * The id of the control the page put the focus on (`autofocus`, or a script), or null when none has
 * it. Chromium moves the focus to an autofocus field when it next draws the page, which can come
 * after the load event: this waits up to 5 s for that moment instead of reading too early.
 */
export async function autofocused(page: Page): Promise<string | null> {
  await waitUntilTrue(page, 'document.activeElement && document.activeElement !== document.body', 5000).catch(() => undefined);
  return (await page.evaluate('document.activeElement && document.activeElement !== document.body ? document.activeElement.id : null')) as string | null;
}

/**
 * Presses Tab until `selector` has the focus (at most `max` times); answers the stops on the way.
 * Throws when it is never reached (a keyboard trap, or a control left out of the order) or when a
 * stop shows no focus.
 */
export async function tabTo(page: Page, selector: string, max = 40): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    if (now === null) continue;
    if (!now.seen) throw new Error(`No visible focus on ${now.what} (${page.url()})`);
    stops.push(now.what);
    if (await page.evaluate(`document.activeElement.matches(${JSON.stringify(selector)})`)) return stops;
  }
  throw new Error(`${selector} is never reached with Tab on ${page.url()}; stops: ${stops.join(', ')}`);
}

/**
 * What the page cuts off at its present size: sideways scrolling of the whole page, boxes
 * that hide text overflowing them (form fields scroll their own text; visually hidden text is
 * meant to be), and an empty field's placeholder wider than the field (no one can scroll to its end).
 * A table scrolling inside its own wrapper is allowed (WCAG 1.4.10).
 */
export async function cutOff(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const problems = [];
    const wide = document.documentElement.scrollWidth - document.documentElement.clientWidth;
    if (wide > 0) problems.push('the page scrolls ' + wide + ' px sideways');
    for (const el of document.querySelectorAll('body *')) {
      if (el.matches('input, textarea, select, .bp-visually-hidden, .bp-sr-only, .visually-hidden')) continue;
      const s = getComputedStyle(el);
      if (!/hidden|clip/.test(s.overflowX)) continue;
      const box = el.getBoundingClientRect();
      if (box.width > 2 && box.height > 2 && el.scrollWidth > el.clientWidth + 1) problems.push('cut off ' + el.tagName.toLowerCase() + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '"');
    }
    const pen = document.createElement('canvas').getContext('2d');
    for (const el of document.querySelectorAll('input[placeholder]')) {
      if (el.value || el.getClientRects().length === 0) continue;
      const s = getComputedStyle(el);
      const text = getComputedStyle(el, '::placeholder');
      pen.font = text.fontStyle + ' ' + text.fontWeight + ' ' + text.fontSize + ' ' + text.fontFamily;
      const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
      if (pen.measureText(el.placeholder).width > room + 1) problems.push('cut off placeholder of #' + el.id + ' "' + el.placeholder.slice(0, 30) + '"');
    }
    return problems;
  })()`)) as string[];
}
