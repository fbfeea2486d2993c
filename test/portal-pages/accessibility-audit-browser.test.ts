/**
 * An accessibility audit of the customer portal in headless Chromium on the demo, for what axe-core
 * does not see: the contrast of the controls' own edges, of the upload drop zone's border and of the lists' sort marks (WCAG 1.4.11) on the sign-in pages and
 * the signed-in ones, in English and Italian; the skip link passing the menu that every signed-in
 * page repeats (WCAG 2.4.1); nothing moving for a customer who asked for reduced motion; the text
 * following the browser's own font size (text-only zoom to 200 %) without being cut off or running
 * into the column beside it; decorative marks left out of the controls' names. Screenshots go to `test-artifacts/accessibility-audit/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { BACKDROP_SCRIPT, contrastRatio } from '../support/contrast.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { cutOff, focused } from '../support/page-checks.js';
import { DEMO_PASSWORD, JANE, MARIO } from './portal-pages-kit.js';

const DESKTOP = { width: 1280, height: 860 };

describe('portal accessibility audit in a browser', function () {
  this.timeout(180_000);
  let test: TestHost;
  let browser: Browser;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('accessibility-audit');
    test = await startTestHost({ demo: true });
    await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'none'`);
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  /** A context in `locale` whose customer `email` is signed in, on the home page. */
  async function signedIn(email: string, locale: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale, viewport: DESKTOP, ...options });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', email);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
    return { context, page };
  }

  /** The pages a customer reaches, signed out then signed in: name → address. */
  async function customerPages(page: Page): Promise<Record<string, string>> {
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    const ticket = `${test.url}${await page.locator('tbody tr:first-child .bp-row-link').getAttribute('href')}`.replace(/\?.*$/, '');
    return { home: `${test.url}/portal/`, ticket, edit: `${ticket}/edit`, newTicket: `${test.url}/portal/m/HelpDesk/new`, password: `${test.url}/portal/account/password` };
  }
  const SIGNED_OUT = { login: '/portal/login', forgot: '/portal/forgot-password', reset: '/portal/reset-password?token=unknown' };

  for (const [who, email, locale] of [
    ['Jane (English)', JANE, 'en-GB'],
    ['Mario (Italian)', MARIO, 'it-IT'],
  ] as const) {
    it(`${who}: every text field and menu has an edge of 3:1 against what is behind it, and the drop zone's border and each list header's sort mark 3:1 too`, async () => {
      const { context, page } = await signedIn(email, locale);
      // The tickets list sorted by one column: its header shows the sorted mark, the others the unsorted one.
      const signedInPages = { ...(await customerPages(page)), list: `${test.url}/portal/m/HelpDesk?sort=ticket_no&dir=asc` };
      const anonymous = await browser.newContext({ locale, viewport: DESKTOP });
      const visitor = await anonymous.newPage();
      const faint: string[] = [];
      for (const [name, url, on] of [
        ...Object.entries(SIGNED_OUT).map(([name, path]) => [name, `${test.url}${path}`, visitor] as const),
        ...Object.entries(signedInPages).map(([name, url]) => [name, url, page] as const),
      ]) {
        await on.goto(url);
        await on.evaluate(BACKDROP_SCRIPT);
        const edges = (await on.evaluate(`[...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea')]
          .filter((el) => el.getClientRects().length > 0)
          .map((el) => ({ what: el.tagName.toLowerCase() + '#' + el.id, edge: getComputedStyle(el).borderTopColor, width: getComputedStyle(el).borderTopWidth, behind: bpBackdrop(el) }))`)) as { what: string; edge: string; width: string; behind: string }[];
        expect(edges, `text fields on ${name}`).to.not.be.empty;
        for (const { what, edge, width, behind } of edges) {
          const ratio = contrastRatio(edge, behind);
          if (parseFloat(width) < 1 || ratio < 3) faint.push(`${name} ${what}: ${width} ${edge} on ${behind} = ${ratio.toFixed(2)}:1`);
        }
        // The upload drop zone's dashed border marks where a file may be dropped: a control's boundary, 3:1 against
        // what is behind it and against the zone's own background inside it (WCAG 1.4.11), idle and with a file dragged over it.
        const zones = (await on.evaluate(`[...document.querySelectorAll('.bp-drop')].filter((el) => el.getClientRects().length > 0).flatMap((el) => ['idle', 'dragged over'].map((state) => {
          el.classList.toggle('bp-drop-active', state !== 'idle');
          const s = getComputedStyle(el);
          const seen = { state, edge: s.borderTopColor, width: s.borderTopWidth, inside: s.backgroundColor, behind: bpBackdrop(el) };
          el.classList.remove('bp-drop-active');
          return seen;
        }))`)) as { state: string; edge: string; width: string; inside: string; behind: string }[];
        if (name === 'ticket') expect(zones, 'the drop zone on the ticket').to.have.length(2);
        for (const { state, edge, width, inside, behind } of zones) {
          const ratio = Math.min(contrastRatio(edge, behind), contrastRatio(edge, inside));
          if (parseFloat(width) < 1 || ratio < 3) faint.push(`${name} drop zone (${state}): ${width} ${edge} on ${behind} and ${inside} = ${ratio.toFixed(2)}:1`);
        }
        // A sort mark (↕ unsorted, ↑ or ↓ sorted) is drawn by its ::after: a graphic that tells the column's state (WCAG 1.4.11).
        const marks = (await on.evaluate(`[...document.querySelectorAll('.bp-sort-mark')].filter((el) => el.getClientRects().length > 0)
          .map((el) => ({ what: (el.classList.contains('bp-sorted') ? 'sorted' : 'unsorted') + ' mark of "' + el.parentElement.textContent.trim() + '"', colour: getComputedStyle(el, '::after').color, behind: bpBackdrop(el) }))`)) as { what: string; colour: string; behind: string }[];
        if (name === 'list') expect(marks.map((mark) => mark.what.split(' ')[0]), 'sort marks on the list').to.include.members(['sorted', 'unsorted']);
        for (const { what, colour, behind } of marks) {
          const ratio = contrastRatio(colour, behind);
          if (ratio < 3) faint.push(`${name} ${what}: ${colour} on ${behind} = ${ratio.toFixed(2)}:1`);
        }
        await on.screenshot({ path: join(artifacts, `${locale}-${name}.png`), fullPage: true });
      }
      expect(faint).to.deep.equal([]);
      await anonymous.close();
      await context.close();
    });
  }

  it('an empty value shown as a dash is read as "No value" ("Nessun valore"), on a record page and in a form\'s read-only field', async () => {
    const read: Record<string, string[]> = {};
    for (const [email, locale, words] of [[JANE, 'en-GB', 'No value'], [MARIO, 'it-IT', 'Nessun valore']] as const) {
      const { context, page } = await signedIn(email, locale);
      const pages = await customerPages(page);
      for (const name of ['ticket', 'edit'] as const) {
        await page.goto(pages[name]);
        // Each value that shows a dash (its text starts with one; words for screen readers may follow), as
        // Chromium's accessibility tree gives it to a screen reader.
        const dashes = page.locator('.bp-fields dd, .bp-static').filter({ hasText: /^\s*—/ });
        const count = await dashes.count();
        if (name === 'ticket') expect(count, `empty values on the ${name} page (${locale})`).to.be.above(0);
        for (let at = 0; at < count; at += 1) {
          const snapshot = await dashes.nth(at).ariaSnapshot();
          (read[`${locale} ${name}`] ??= []).push(snapshot.includes(words) && !snapshot.includes('—') ? words : snapshot);
        }
        await page.screenshot({ path: join(artifacts, `${locale}-${name}-empty-values.png`), fullPage: true });
      }
      await context.close();
    }
    expect(Object.keys(read)).to.include.members(['en-GB ticket', 'it-IT ticket']);
    expect(read).to.deep.equal(Object.fromEntries(Object.entries(read).map(([key, found]) => [key, found.map(() => (key.startsWith('en') ? 'No value' : 'Nessun valore'))])));
  });

  it("a form's read-only value is a term and its definition: named by its label without naming a paragraph (ARIA 1.2), in English and Italian", async () => {
    const found: Record<string, string[]> = {};
    for (const [email, locale] of [[JANE, 'en-GB'], [MARIO, 'it-IT']] as const) {
      const { context, page } = await signedIn(email, locale);
      await page.goto((await customerPages(page)).edit);
      const controls = page.locator('.bp-control-static');
      const count = await controls.count();
      expect(count, `read-only values on the edit form (${locale})`).to.be.above(0);
      for (let at = 0; at < count; at += 1) {
        const control = controls.nth(at);
        // What the eye reads: the label (with its "read-only") above the value.
        const label = (await control.locator('.bp-control-label').innerText()).trim().replace(/\s+/g, ' ');
        const value = (await control.locator('.bp-static').innerText()).trim().replace(/\s+/g, ' ');
        // What a screen reader is given (Playwright's accessibility snapshot of the control), and any element
        // whose role may not be named (ARIA 1.2: paragraph, generic, …) that is named all the same.
        const snapshot = await control.ariaSnapshot();
        const misnamed = (await page.evaluate(`[...document.querySelectorAll('.bp-control-static')[${at}].querySelectorAll('[aria-label], [aria-labelledby]')]
          .filter((named) => ['P', 'SPAN', 'DIV'].includes(named.tagName) && !named.getAttribute('role')).map((named) => named.tagName.toLowerCase())`)) as string[];
        // An empty value's dash is drawn for the eye; its words ("No value") are what is read.
        const expected = `- term: ${label}\n- definition: ${value.replace(/^—\s*/, '')}`;
        (found[locale] ??= []).push(misnamed.length ? `a named ${misnamed.join(', ')}` : snapshot === expected ? 'term and definition' : snapshot);
      }
      await page.screenshot({ path: join(artifacts, `${locale}-edit-read-only.png`), fullPage: true });
      await context.close();
    }
    expect(found).to.deep.equal(Object.fromEntries(Object.entries(found).map(([key, all]) => [key, all.map(() => 'term and definition')])));
  });

  it('the skip link passes the menu: Tab after it goes into the page itself, in English and Italian', async () => {
    const found: Record<string, string[]> = {};
    for (const [email, locale] of [[JANE, 'en-GB'], [MARIO, 'it-IT']] as const) {
      const { context, page } = await signedIn(email, locale);
      for (const [name, url] of Object.entries(await customerPages(page))) {
        if (name === 'edit' || name === 'newTicket') continue; // their first field has the focus already
        await page.goto(url);
        await page.keyboard.press('Tab');
        const skip = await focused(page);
        await page.keyboard.press('Enter');
        await page.keyboard.press('Tab');
        const after = (await page.evaluate(`(() => { const el = document.activeElement; return [el.closest('nav') ? 'in the menu' : el.closest('main') ? 'in main' : 'outside main', !!document.querySelector('main nav, main aside')]; })()`)) as [string, boolean];
        await page.screenshot({ path: join(artifacts, `${locale}-${name}-after-skip.png`) });
        found[`${locale} ${name}`] = [skip?.seen ? 'a visible skip link' : `no visible skip link (${skip?.what})`, after[0], after[1] ? 'a landmark inside main' : 'landmarks beside main'];
      }
      await context.close();
    }
    const expected = ['a visible skip link', 'in main', 'landmarks beside main'];
    expect(found).to.deep.equal(Object.fromEntries(Object.keys(found).map((key) => [key, expected])));
  });

  it('Tab goes through the page\'s parts in the order they are on screen, at 375, 900 and 1280 px, the skip link first', async () => {
    /**
     * Tabs through the page from its top until the focus leaves it: after the skip link, the part of the
     * page it is in (banner, menu, main, account tools), then the parts as they are on screen, top to
     * bottom and, on one row, left to right (an edge within 8 px counts as the same row).
     */
    const tour = async (page: Page): Promise<{ first: string; tabbed: string[]; onScreen: string[] }> => {
      const stops: string[] = [];
      let first = '';
      for (let step = 0; step < 120; step += 1) {
        await page.keyboard.press('Tab');
        const at = (await page.evaluate(`(() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const part = el.closest('header, nav, main, aside');
          return { part: part ? part.tagName.toLowerCase() : 'outside', what: el.tagName.toLowerCase() + ' ' + (el.getAttribute('class') || '') };
        })()`)) as { part: string; what: string } | null;
        if (!at) break;
        if (step === 0) first = at.what;
        else if (at.what === first) break; // round again
        if (step > 0 && stops.at(-1) !== at.part) stops.push(at.part);
      }
      const onScreen = (await page.evaluate(`[...document.querySelectorAll('header, nav, main, aside')]
        .filter((el) => el.getClientRects().length > 0 && el.querySelector('a[href], button:not([hidden]), input:not([type=hidden]), select, textarea, summary'))
        .map((el) => { const box = el.getBoundingClientRect(); return { part: el.tagName.toLowerCase(), top: box.top + scrollY, left: box.left }; })
        .sort((a, b) => (Math.abs(a.top - b.top) > 8 ? a.top - b.top : a.left - b.left))
        .map((at) => at.part)`)) as string[];
      return { first, tabbed: stops, onScreen };
    };
    const found: Record<string, string> = {};
    for (const width of [375, 900, 1280]) {
      const { context, page } = await signedIn(JANE, 'en-GB', { viewport: { width, height: 800 } });
      for (const [name, url] of Object.entries({ home: `${test.url}/portal/`, list: `${test.url}/portal/m/HelpDesk` })) {
        await page.goto(url);
        const { first, tabbed, onScreen } = await tour(page);
        await page.screenshot({ path: join(artifacts, `tab-order-${name}-${width}.png`), fullPage: true });
        expect(first, `the first stop at ${width} px on ${name}`).to.equal('a bp-skip');
        found[`${name} at ${width} px`] = tabbed.join(' → ') === onScreen.join(' → ') ? 'the order on screen' : `Tab: ${tabbed.join(' → ')}; on screen: ${onScreen.join(' → ')}`;
      }
      await context.close();
    }
    expect(found).to.deep.equal(Object.fromEntries(Object.keys(found).map((key) => [key, 'the order on screen'])));
  });

  it('with reduced motion asked for, nothing on the pages moves or fades, the home buttons under the pointer either', async () => {
    const { context, page } = await signedIn(JANE, 'en-GB', { reducedMotion: 'reduce' });
    const moving: string[] = [];
    for (const [name, url] of Object.entries(await customerPages(page))) {
      await page.goto(url);
      const hovered = page.locator('.bp-content .bp-action:visible, .bp-content .bp-button:visible').first();
      await hovered.hover();
      const found = (await page.evaluate(`[...document.querySelectorAll('body, body *')].flatMap((el) => {
        const s = getComputedStyle(el);
        const what = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
        const moves = [];
        if (s.transitionDuration.split(',').some((d) => parseFloat(d) > 0)) moves.push(what + ' transition ' + s.transitionProperty + ' ' + s.transitionDuration);
        if (s.animationName !== 'none' && s.animationDuration.split(',').some((d) => parseFloat(d) > 0)) moves.push(what + ' animation ' + s.animationName);
        if (el.matches(':hover') && s.transform !== 'none') moves.push(what + ' moved under the pointer: ' + s.transform);
        return moves;
      })`)) as string[];
      for (const move of found) moving.push(`${name}: ${move}`);
    }
    expect(moving).to.deep.equal([]);
    await context.close();
  });

  /**
   * What sticks out of the main landmark's box sideways (into the column beside it, or off the screen):
   * a table scrolling in its own wrapper and visually hidden text are where they should be.
   */
  async function spilling(page: Page): Promise<string[]> {
    return (await page.evaluate(`(() => {
      const main = document.querySelector('main').getBoundingClientRect();
      return [...document.querySelectorAll('main *')].flatMap((el) => {
        if (el.closest('.bp-table-wrap, .bp-visually-hidden, .bp-icon-sprite')) return [];
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0 || (box.right <= main.right + 1 && box.left >= main.left - 1)) return [];
        return [el.tagName.toLowerCase() + '.' + (typeof el.className === 'string' ? el.className.trim().split(/\\s+/).join('.') : '') + ' "' + el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 30) + '" ' + Math.round(box.left) + '–' + Math.round(box.right) + ' px, main ' + Math.round(main.left) + '–' + Math.round(main.right)];
      }).slice(0, 3);
    })()`)) as string[];
  }

  it('the text follows the font size set in the browser (200 %), on every page, without being cut off', async () => {
    /** Sets the browser's default font size (Settings → Appearance → Font size) for `page`. */
    const largeText = async (page: Page): Promise<void> => {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Page.enable');
      await cdp.send('Page.setFontSizes', { fontSizes: { standard: 32 } });
    };
    const found: Record<string, string> = {};
    const problems: string[] = [];
    const visit = async (page: Page, name: string, url: string): Promise<void> => {
      await page.goto(url);
      const [body, h1] = (await page.evaluate(`[document.body, document.querySelector('h1')].map((el) => parseFloat(getComputedStyle(el).fontSize))`)) as [number, number];
      found[name] = `body ${body}px, h1 ${h1 > body ? 'larger' : `${h1}px`}`;
      for (const problem of await cutOff(page)) problems.push(`${name}: ${problem}`);
      for (const problem of await spilling(page)) problems.push(`${name}: ${problem}`);
      // Where the menu's toggle shows (a narrow layout), the menu starts folded, as it does on a phone.
      if (await page.evaluate(`(() => { const fold = document.querySelector('[data-menu-fold]'); return !!fold && fold.open && fold.querySelector('summary').getClientRects().length > 0; })()`)) problems.push(`${name}: the menu's toggle shows, the menu is not folded`);
      await page.screenshot({ path: join(artifacts, `large-text-${name}.png`) });
    };
    const anonymous = await browser.newContext({ locale: 'it-IT', viewport: DESKTOP });
    const visitor = await anonymous.newPage();
    await largeText(visitor);
    for (const [name, path] of Object.entries({ ...SIGNED_OUT, missing: '/portal/no-such-page' })) await visit(visitor, name, `${test.url}${path}`);
    const { context, page } = await signedIn(JANE, 'en-GB');
    await largeText(page);
    for (const [name, url] of Object.entries(await customerPages(page))) await visit(page, name, url);
    // The body's text is the browser's 32 px, and each h1 larger still (its size in rem or em).
    expect(found).to.deep.equal(Object.fromEntries(Object.keys(found).map((name) => [name, 'body 32px, h1 larger'])));
    expect(problems).to.deep.equal([]);
    await anonymous.close();
    await context.close();
  });

  it("on a narrow screen the menu's toggle is named by its word alone, not by the drawn bars before it", async () => {
    const names: Record<string, string> = {};
    for (const [email, locale] of [[JANE, 'en-GB'], [MARIO, 'it-IT']] as const) {
      const { context, page } = await signedIn(email, locale, { viewport: { width: 360, height: 740 } });
      // The name Chromium's accessibility tree gives the toggle (what screen readers say), beside its word.
      const cdp = await context.newCDPSession(page);
      const { root } = (await cdp.send('DOM.getDocument')) as { root: { nodeId: number } };
      const { nodeId } = (await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: 'summary.bp-menu-toggle' })) as { nodeId: number };
      const { nodes } = (await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false })) as { nodes: { name?: { value: string } }[] };
      const word = (await page.locator('summary.bp-menu-toggle').textContent())!.trim();
      expect(word, `the toggle's word in ${locale}`).to.not.equal('');
      await page.locator('.bp-menu').screenshot({ path: join(artifacts, `${locale}-menu-toggle.png`) });
      names[locale] = nodes[0]?.name?.value === word ? 'its word' : `"${nodes[0]?.name?.value}" for "${word}"`;
      await context.close();
    }
    expect(names).to.deep.equal({ 'en-GB': 'its word', 'it-IT': 'its word' });
  });
});
