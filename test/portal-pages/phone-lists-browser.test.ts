/**
 * A module's list on a phone (320 and 375 CSS px, and 640: 1280 px at 200 % zoom) and on a desktop, in headless Chromium on the demo,
 * in English (Jane) and Italian (Mario): on a phone each row is a card headed by its first column's
 * link, every other value beside its column's name (seen, and read by a screen reader with the
 * value), the page never scrolls sideways (a file name with no place to break, long Italian column
 * names); the column filters fold under "Filters" (open once one is set) and stack, each with its label, and a select sorts; with JavaScript and
 * without. On a desktop the list stays a table with its column headers. Screenshots go to
 * `test-artifacts/phone-lists/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { smallTapTargets } from '../support/page-checks.js';
import { changeDefaultModule, DEMO_PASSWORD, JANE, MARIO } from './portal-pages-kit.js';

const PHONES = { '320': { width: 320, height: 640 }, '375': { width: 375, height: 812 } } as const;
const DESKTOP = { width: 1280, height: 800 };
/** A file name with no space, hyphen or other place to break: 90 characters. */
const UNBROKEN = `controller_log_line2_${'reboot'.repeat(10)}_2026_12_05.txt`;

/** Deliveries: column names as long as Italian makes them, one a single long word. */
async function deliveriesModule(test: TestHost, contacts: readonly number[]): Promise<void> {
  const api = test.host.api;
  await api.modules.registerModule({
    name: 'Deliveries',
    label: { en: 'Deliveries', it: 'Consegne' },
    singularLabel: { en: 'Delivery', it: 'Consegna' },
    custom: true,
    labelField: 'delivery_no',
    fields: [
      { name: 'delivery_no', label: { en: 'Delivery', it: 'Consegna' }, type: 'text', mandatory: true },
      { name: 'attachment', label: { en: 'Attached file name', it: 'Nome del file allegato alla consegna programmata' }, type: 'text', mandatory: false },
      { name: 'address', label: { en: 'Agreed address', it: 'Indirizzo di consegna concordato con il cliente' }, type: 'text', mandatory: false },
      { name: 'speed', label: { en: 'Speed', it: 'Precipitevolissimevolmente' }, type: 'text', mandatory: false },
      { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
    ],
  });
  await changeDefaultModule(test, 'Deliveries', (entry) => ({
    ...entry,
    shown: true,
    view: true,
    scope: 'contact',
    fields: { delivery_no: 'readonly', attachment: 'readonly', address: 'readonly', speed: 'readonly', contact_id: 'readonly' },
    listColumns: ['delivery_no', 'attachment', 'address', 'speed'],
    tools: { ...entry.tools, search: true },
  }));
  for (const contact of contacts) {
    await api.records.create('Deliveries', { values: { delivery_no: `D-${contact}-1`, attachment: UNBROKEN, address: 'Via Giuseppe Garibaldi 1234, 20121 Milano', speed: 'Fast', contact_id: contact } });
    await api.records.create('Deliveries', { values: { delivery_no: `D-${contact}-2`, attachment: 'short.txt', address: '', speed: 'Slow', contact_id: contact } });
  }
}

/** What the list looks like: the page's sideways overflow, each card's values without their label, the cards leaving the screen. */
const LOOK = `(() => {
  const headers = [...document.querySelectorAll('.bp-table thead th')].map((th) => th.textContent.trim());
  const width = document.documentElement.clientWidth;
  const unlabelled = [], outside = [], hidden = [];
  for (const row of document.querySelectorAll('.bp-table tbody tr')) {
    [...row.children].forEach((cell, i) => {
      const before = getComputedStyle(cell, '::before');
      const text = cell.textContent.trim();
      if (before.content !== JSON.stringify(headers[i])) unlabelled.push(text.slice(0, 30) + ' (' + before.content + ')');
      // The first column heads the card; the others show their label beside the value.
      else if (i > 0 && text !== '' && before.position === 'absolute') hidden.push(text.slice(0, 30));
      const box = cell.getBoundingClientRect();
      if (text !== '' && (box.left < 0 || box.right > width + 0.5)) outside.push(text.slice(0, 30) + ' ' + Math.round(box.left) + '–' + Math.round(box.right));
    });
  }
  const title = row => row.querySelector('td:first-child .bp-row-link');
  const titles = [...document.querySelectorAll('.bp-table tbody tr')].map((row) => title(row) ? Math.round(title(row).getBoundingClientRect().height) : 0);
  return {
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    rows: document.querySelectorAll('.bp-table tbody tr').length,
    unlabelled, hidden, outside,
    smallTitles: titles.filter((h) => h < 44),
    headerRow: getComputedStyle(document.querySelector('.bp-table thead tr')).display,
    sortShown: !!document.querySelector('#bp-list-sort') && document.querySelector('#bp-list-sort').getBoundingClientRect().height > 0,
  };
})()`;

interface Look {
  sideways: number;
  rows: number;
  unlabelled: string[];
  hidden: string[];
  outside: string[];
  smallTitles: number[];
  headerRow: string;
  sortShown: boolean;
}

interface AxNode {
  nodeId: string;
  role?: { value: string };
  name?: { value: string };
  childIds?: string[];
  backendDOMNodeId?: number;
}

/** What a screen reader reads of each row of the list (Chromium's accessibility tree), text by text. */
async function rowsAsRead(context: BrowserContext, page: Page): Promise<string[][]> {
  const cdp = await context.newCDPSession(page);
  try {
    const { root } = (await cdp.send('DOM.getDocument', { depth: 0 })) as { root: { nodeId: number } };
    const { nodeIds } = (await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: '.bp-table tbody tr' })) as { nodeIds: number[] };
    const rows: number[] = [];
    for (const nodeId of nodeIds) rows.push(((await cdp.send('DOM.describeNode', { nodeId })) as { node: { backendNodeId: number } }).node.backendNodeId);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AxNode[] };
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const texts = (node: AxNode): string[] =>
      node.role?.value === 'StaticText' ? [node.name?.value ?? ''] : (node.childIds ?? []).flatMap((id) => (byId.has(id) ? texts(byId.get(id)!) : []));
    return rows.map((backend) => {
      const node = nodes.find((n) => n.backendDOMNodeId === backend);
      return node ? texts(node).map((t) => t.trim()).filter((t) => t !== '') : [];
    });
  } finally {
    await cdp.detach();
  }
}

/** Chromium's roles on the page: how many of each. */
async function roles(context: BrowserContext, page: Page): Promise<Record<string, number>> {
  const cdp = await context.newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AxNode[] };
    const count: Record<string, number> = {};
    for (const node of nodes) if (node.role?.value) count[node.role.value] = (count[node.role.value] ?? 0) + 1;
    return count;
  } finally {
    await cdp.detach();
  }
}

describe('portal lists on a phone and a desktop in a browser', function () {
  this.timeout(180_000);
  let test: TestHost;
  let browser: Browser;
  let artifacts: string;

  const contactOf = async (email: string) => {
    const [account] = (await test.host.api.database.sequelize.query(`SELECT contact_id FROM bp_portal_accounts WHERE email = '${email}'`, { type: QueryTypes.SELECT })) as { contact_id: unknown }[];
    return (await test.host.api.records.get('Contacts', Number(account!.contact_id)))!;
  };

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('phone-lists');
    test = await startTestHost({ demo: true });
    const contacts = [];
    for (const email of [JANE, MARIO]) {
      const contact = await contactOf(email);
      contacts.push(contact.id);
      // A ticket titled with a file name.
      await test.host.api.records.create('HelpDesk', { values: { ticket_title: UNBROKEN, status: 'Open', contact_id: contact.id, account_id: contact.values.account_id ?? null } });
    }
    await deliveriesModule(test, contacts);
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  async function signedIn(email: string, language: 'en' | 'it', javaScript = true): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: language === 'it' ? 'it-IT' : 'en-GB', viewport: PHONES['375'], javaScriptEnabled: javaScript });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', email);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
    return { context, page };
  }

  for (const [who, email, language] of [
    ['Jane (English)', JANE, 'en'],
    ['Mario (Italian)', MARIO, 'it'],
  ] as const) {
    it(`${who}: at 320, 375 and 640 px each row is a card, every value beside its column's name, nothing scrolls sideways`, async () => {
      const { context, page } = await signedIn(email, language);
      try {
        const problems: string[] = [];
        for (const module of ['HelpDesk', 'Deliveries', 'Invoice']) {
          for (const [size, viewport] of Object.entries({ ...PHONES, '640': { width: 640, height: 800 } })) {
            await page.setViewportSize(viewport);
            await page.goto(`${test.url}/portal/m/${module}`);
            await page.screenshot({ path: join(artifacts, `${language}-${module}-${size}.png`), fullPage: true });
            const look = (await page.evaluate(LOOK)) as Look;
            const where = `${module} at ${size}`;
            expect(look.rows, `${where}: rows listed`).to.be.greaterThan(0);
            if (look.sideways > 0) problems.push(`${where}: the page scrolls ${look.sideways} px sideways`);
            for (const value of look.unlabelled) problems.push(`${where}: no label for ${value}`);
            for (const value of look.hidden) problems.push(`${where}: label not shown for ${value}`);
            for (const value of look.outside) problems.push(`${where}: off the screen ${value}`);
            if (look.smallTitles.length > 0) problems.push(`${where}: card titles lower than 44 px ${look.smallTitles.join(', ')}`);
            if (look.headerRow !== 'none') problems.push(`${where}: the header row is shown (${look.headerRow})`);
            if (!look.sortShown) problems.push(`${where}: no sort select`);
            for (const small of await smallTapTargets(page, { within: '.bp-content' })) problems.push(`${where}: small tap target ${small}`);
          }
        }
        // The long file name is there, whole, in a card.
        await page.goto(`${test.url}/portal/m/Deliveries`);
        expect(await page.locator('tbody td', { hasText: UNBROKEN }).count(), 'the long file name is listed').to.equal(1);
        // A screen reader reads each value after its column's name (the first one too, before the card's link).
        const headers = (await page.locator('.bp-table thead .bp-head-row th').allTextContents()).map((t) => t.trim());
        const values = await page.locator('.bp-table tbody tr').evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => (cell.textContent ?? '').trim())));
        const read = await rowsAsRead(context, page);
        expect(read.length, 'rows read').to.equal(values.length);
        read.forEach((texts, r) => {
          values[r]!.forEach((value, c) => {
            if (value === '') return;
            const at = texts.indexOf(value);
            if (at < 1 || texts[at - 1] !== headers[c]) problems.push(`row ${r + 1}: "${value}" is not read after "${headers[c]}" (${texts.join(' | ')})`);
          });
        });
        expect(problems).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  }

  for (const javaScript of [true, false]) {
    it(`at 375 px ${javaScript ? 'with' : 'without'} JavaScript: a column filter and the sort select apply, the order changes`, async () => {
      const { context, page } = await signedIn(JANE, 'en', javaScript);
      try {
        await page.goto(`${test.url}/portal/m/HelpDesk`);
        // A filter box with its label in sight, once the filters are unfolded.
        await page.click('.bp-filters-toggle');
        const label = page.locator('label[for="bp-filter-ticket_title"]');
        expect(await label.isVisible(), 'the filter label is shown').to.equal(true);
        expect((await label.boundingBox())!.width, 'the filter label is readable').to.be.greaterThan(20);
        await page.fill('#bp-filter-ticket_title', 'line');
        await Promise.all([page.waitForURL(/f_ticket_title=line/), page.press('#bp-filter-ticket_title', 'Enter')]);
        const titles = await page.locator('tbody tr td:nth-child(2)').allTextContents();
        expect(titles.length, 'tickets with "line"').to.be.greaterThan(1);
        for (const title of titles) expect(title.toLowerCase()).to.include('line');
        // The sort: a column, then the other way round; the filter stays.
        const numbers = async () => (await page.locator('tbody tr td:nth-child(1)').allTextContents()).map((n) => n.trim());
        const apply = async (pattern: RegExp, choose: () => Promise<unknown>) => {
          if (javaScript) await Promise.all([page.waitForURL(pattern), choose()]);
          else {
            await choose();
            await Promise.all([page.waitForURL(pattern), page.click('.bp-list-sort button[type="submit"]')]);
          }
        };
        await apply(/sort=ticket_no&dir=desc/, () => page.selectOption('#bp-list-sort', 'ticket_no'));
        const descending = await numbers();
        expect(descending, 'descending').to.deep.equal([...descending].sort().reverse());
        await apply(/sort=ticket_no&dir=asc/, () => page.selectOption('#bp-list-dir', 'asc'));
        const ascending = await numbers();
        expect(ascending, 'ascending').to.deep.equal([...descending].reverse());
        expect(ascending, 'the order changed').to.not.deep.equal(descending);
        expect(page.url()).to.include('f_ticket_title=line');
        expect(await page.inputValue('#bp-list-sort')).to.equal('ticket_no');
        // A picklist filter, then back to the list's own order.
        await apply(/f_status=Open/, () => page.selectOption('#bp-filter-status', 'Open'));
        for (const status of await page.locator('tbody tr td:nth-child(3)').allTextContents()) expect(status).to.equal('Open');
        await page.screenshot({ path: join(artifacts, `sorted-filtered-${javaScript ? 'js' : 'nojs'}-375.png`), fullPage: true });
        expect(await smallTapTargets(page, { within: '.bp-content' }), 'tap targets under 40 px').to.deep.equal([]);
        await apply(/sort=modifiedAt/, () => page.selectOption('#bp-list-sort', 'modifiedAt'));
        expect(await page.inputValue('#bp-filter-status')).to.equal('Open');
      } finally {
        await context.close();
      }
    });
  }

  for (const javaScript of [true, false]) {
    it(`at 375 px ${javaScript ? 'with' : 'without'} JavaScript the column filters fold under "Filters", open once one is set; a desktop's stay in the table`, async () => {
      const { context, page } = await signedIn(JANE, 'en', javaScript);
      try {
        await page.goto(`${test.url}/portal/m/HelpDesk`);
        const filterBox = page.locator('#bp-filter-ticket_title');
        const toggle = page.getByText(/^Filters\b/);
        // Nothing filtered: the filters are folded; the first card follows the toggle closely.
        expect(await toggle.isVisible(), 'the Filters toggle is shown').to.equal(true);
        expect((await toggle.textContent())!.trim()).to.equal('Filters');
        expect(await filterBox.isVisible(), 'the filters start folded').to.equal(false);
        const gap = (await page.locator('tbody tr').first().boundingBox())!.y - ((await toggle.boundingBox())!.y + (await toggle.boundingBox())!.height);
        expect(gap, 'space between the toggle and the first card').to.be.below(60);
        await page.screenshot({ path: join(artifacts, `filters-folded-${javaScript ? 'js' : 'nojs'}-375.png`), fullPage: true });
        expect(await smallTapTargets(page, { within: '.bp-content' }), 'tap targets under 40 px').to.deep.equal([]);
        // By keyboard: the toggle opens them; a filter applies, and the list comes back with them open and counted.
        await toggle.focus();
        await page.keyboard.press('Enter');
        expect(await filterBox.isVisible(), 'Enter on the toggle shows the filters').to.equal(true);
        await page.fill('#bp-filter-ticket_title', 'line');
        await Promise.all([page.waitForURL(/f_ticket_title=line/), page.press('#bp-filter-ticket_title', 'Enter')]);
        await page.selectOption('#bp-filter-status', 'Open');
        if (!javaScript) await Promise.all([page.waitForURL(/f_status=Open/), page.click('#bp-list-filter button[type="submit"]')]);
        else await page.waitForURL(/f_status=Open/);
        expect((await toggle.textContent())!.trim()).to.equal('Filters (2 active)');
        expect(await filterBox.isVisible(), 'set filters are shown').to.equal(true);
        expect(await filterBox.inputValue()).to.equal('line');
        await page.screenshot({ path: join(artifacts, `filters-open-${javaScript ? 'js' : 'nojs'}-375.png`), fullPage: true });
        // Folded again, the filters still apply: the search keeps them.
        await toggle.click();
        expect(await filterBox.isVisible()).to.equal(false);
        await Promise.all([page.waitForURL(/q=/), page.click('#bp-list-filter button[type="submit"]:visible >> nth=0')]);
        expect(page.url()).to.include('f_ticket_title=line').and.include('f_status=Open');
        // A desktop: no toggle, the filters in the table's row under the headers, as before.
        await page.setViewportSize({ width: 1280, height: 800 });
        await page.goto(`${test.url}/portal/m/HelpDesk`);
        expect(await toggle.isVisible(), 'no toggle on a desktop').to.equal(false);
        expect(await filterBox.isVisible(), 'the filters on a desktop').to.equal(true);
        expect(await page.locator('thead .bp-filter-row #bp-filter-ticket_title').count()).to.equal(1);
      } finally {
        await context.close();
      }
    });
  }

  it('in Italian the folded filters are "Filtri", and count what is set', async () => {
    const { context, page } = await signedIn(MARIO, 'it');
    try {
      await page.goto(`${test.url}/portal/m/HelpDesk`);
      expect((await page.getByText(/^Filtri\b/).textContent())!.trim()).to.equal('Filtri');
      await page.goto(`${test.url}/portal/m/HelpDesk?f_status=Open`);
      expect((await page.getByText(/^Filtri\b/).textContent())!.trim()).to.equal('Filtri (1 attivo)');
      await page.goto(`${test.url}/portal/m/HelpDesk?f_status=Open&f_ticket_title=a`);
      expect((await page.getByText(/^Filtri\b/).textContent())!.trim()).to.equal('Filtri (2 attivi)');
    } finally {
      await context.close();
    }
  });

  it('at 375 px a list without the search tool is still sorted by the select', async () => {
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, tools: { ...entry.tools, search: false } }));
    const { context, page } = await signedIn(JANE, 'en');
    try {
      await page.goto(`${test.url}/portal/m/HelpDesk`);
      expect(await page.locator('#bp-list-q').count(), 'no search box').to.equal(0);
      expect(await page.locator('#bp-list-sort').isVisible(), 'the sort select is shown').to.equal(true);
      await Promise.all([page.waitForURL(/sort=ticket_no&dir=desc/), page.selectOption('#bp-list-sort', 'ticket_no')]);
      await Promise.all([page.waitForURL(/sort=ticket_no&dir=asc/), page.selectOption('#bp-list-dir', 'asc')]);
      const numbers = (await page.locator('tbody tr td:nth-child(1)').allTextContents()).map((n) => n.trim());
      expect(numbers.length).to.be.greaterThan(1);
      expect(numbers).to.deep.equal([...numbers].sort());
      await page.screenshot({ path: join(artifacts, 'sort-only-375.png'), fullPage: true });
      expect(await smallTapTargets(page, { within: '.bp-content' }), 'tap targets under 40 px').to.deep.equal([]);
    } finally {
      await context.close();
      await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, tools: { ...entry.tools, search: true } }));
    }
  });

  it('the column search’s selects ("Any") are as tall as its text and date boxes, at 375 and 1280 px', async () => {
    const { context, page } = await signedIn(JANE, 'en');
    try {
      for (const [size, viewport] of [['375', PHONES['375']], ['1280', DESKTOP]] as const) {
        await page.setViewportSize(viewport);
        for (const module of ['HelpDesk', 'Invoice']) {
          await page.goto(`${test.url}/portal/m/${module}`);
          // On a phone the filters are folded under "Filters".
          if (await page.locator('.bp-filters-toggle').isVisible()) await page.click('.bp-filters-toggle');
          await page.screenshot({ path: join(artifacts, `en-${module}-filters-${size}.png`) });
          const heights = (await page.evaluate(`[...document.querySelectorAll('#bp-filter-row input, #bp-filter-row select')]
            .map((box) => box.tagName.toLowerCase() + (box.type ? ':' + box.type : '') + ' ' + Math.round(box.getBoundingClientRect().height * 10) / 10)`)) as string[];
          expect(heights.some((h) => h.startsWith('select')), `${module}: a select among the filters`).to.equal(true);
          expect(heights.some((h) => h.startsWith('input')), `${module}: a box among the filters`).to.equal(true);
          const tallest = Math.max(...heights.map((h) => Number(h.split(' ')[1])));
          expect(heights.filter((h) => Number(h.split(' ')[1]) !== tallest), `${module} at ${size} px: ${heights.join(', ')}`).to.deep.equal([]);
        }
      }
    } finally {
      await context.close();
    }
  });

  it('on a desktop the list stays a table with its column headers and sort links, without the sort select', async () => {
    const { context, page } = await signedIn(MARIO, 'it');
    try {
      await page.setViewportSize(DESKTOP);
      for (const module of ['HelpDesk', 'Deliveries']) {
        await page.goto(`${test.url}/portal/m/${module}`);
        await page.screenshot({ path: join(artifacts, `it-${module}-desktop.png`), fullPage: true });
        const look = (await page.evaluate(`(() => ({
          table: getComputedStyle(document.querySelector('.bp-table')).display,
          headers: [...document.querySelectorAll('.bp-table thead .bp-head-row th')].filter((th) => th.getBoundingClientRect().height > 0).length,
          cells: document.querySelectorAll('.bp-table tbody tr:first-child td').length,
          labels: [...document.querySelectorAll('.bp-table tbody td')].filter((td) => getComputedStyle(td, '::before').content !== 'none').length,
          sortLinks: [...document.querySelectorAll('.bp-table thead a.bp-sort')].filter((a) => a.getBoundingClientRect().height > 0).length,
          sortSelect: document.querySelector('#bp-list-sort') ? document.querySelector('#bp-list-sort').getBoundingClientRect().height : 0,
          sideways: document.querySelector('.bp-table-wrap').scrollWidth - document.querySelector('.bp-table-wrap').clientWidth,
        }))()`)) as Record<string, number | string>;
        expect(look, module).to.deep.include({ table: 'table', labels: 0, sortSelect: 0 });
        // (Deliveries' long Italian column names do not wrap on a desktop: its table scrolls in its box.)
        if (module === 'HelpDesk') expect(look.sideways, `${module}: px the table is wider than its box`).to.equal(0);
        expect(look.headers, `${module}: a header per column`).to.equal(look.cells);
        expect(look.sortLinks, `${module}: sort links`).to.equal(look.cells);
        const counted = await roles(context, page);
        expect(counted.table ?? 0, `${module}: a table`).to.equal(1);
        expect(counted.columnheader ?? 0, `${module}: its column headers`).to.equal(look.cells);
      }
    } finally {
      await context.close();
    }
  });
});
