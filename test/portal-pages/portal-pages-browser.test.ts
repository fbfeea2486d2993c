/**
 * The customer's journey in headless Chromium on the demo: Jane signs in, uses a home button,
 * searches and sorts her tickets, opens one, comments, uploads a file by the picker and by
 * dragging it, resolves the ticket, creates a ticket after a refused first try; the home and a
 * list again on a 360-pixel-wide phone; a Documents record's download and a date search on
 * invoices. axe-core checks every page and fails on serious or critical violations. Screenshots go to `test-artifacts/portal-*.png`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { autofocused, seriousViolations, smallTapTargets } from '../support/page-checks.js';
import { DEMO_PASSWORD, invoiceDate, JANE, MARIO } from './portal-pages-kit.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 360, height: 740 };

describe('portal pages in a browser', function () {
  this.timeout(180_000);
  let test: TestHost;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Stylesheets, scripts, images and the icon that failed to load (pages themselves may be 4xx on purpose). */
  const failedAssets: string[] = [];

  before(async function () {
    skipWithoutChromium(this);
    mkdirSync(ARTIFACTS, { recursive: true });
    test = await startTestHost({ demo: true });
    browser = await sharedChromium();
    // The pages' CSP forbids inline scripts: axe-core is injected as one, so the test context bypasses it.
    context = await browser.newContext({ locale: 'en-GB', viewport: DESKTOP, bypassCSP: true });
    page = await context.newPage();
    page.on('response', (response) => {
      if (response.status() >= 400 && response.request().resourceType() !== 'document') failedAssets.push(`${response.status()} ${response.url()}`);
    });
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  async function check(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `portal-${name}.png`), fullPage: true });
    expect(await seriousViolations(page), `axe on ${name}`).to.deep.equal([]);
    expect(failedAssets, `assets of ${name}`).to.deep.equal([]);
  }

  it('signs in and shows the home: menu, quick-action buttons in order, full screen, logout', async () => {
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    expect(page.url()).to.match(/\/portal\/login\?next=%2Fm%2FHelpDesk$/);
    await page.fill('#bp-email', JANE);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk$/), page.click('button[type="submit"]:has-text("Sign in")')]);
    await page.goto(`${test.url}/portal/`);
    expect(await page.locator('h1').textContent()).to.equal('Welcome, Jane Doe');
    expect(await page.locator('.bp-action-title').allTextContents()).to.deep.equal(['New ticket', 'My tickets', 'Invoices', 'Knowledge base']);
    expect(await page.locator('[data-fullscreen]').isVisible()).to.equal(true);
    expect(await page.locator('.bp-account button:has-text("Log out")').isVisible()).to.equal(true);
    await check('home');
    await Promise.all([page.waitForURL(/\/portal\/account\/password$/), page.click('.bp-account a:has-text("Change password")')]);
    expect(await page.locator('h1').textContent()).to.equal('Change your password');
    await check('password');
    await page.goto(`${test.url}/portal/`);
  });

  it('opens the tickets from a home button, searches by two columns and the box, sorts by a header', async () => {
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk$/), page.click('.bp-action:has-text("My tickets")')]);
    expect(await page.locator('h1').textContent()).to.equal('Trouble Tickets');
    const total = await page.locator('tbody tr').count();
    expect(total).to.be.greaterThan(1);
    await check('list');

    await page.fill('#bp-list-q', 'VPN');
    await Promise.all([page.waitForURL(/q=VPN/), page.press('#bp-list-q', 'Enter')]);
    expect(await page.locator('tbody tr').count()).to.equal(1);
    await page.click('a:has-text("Clear the search")');
    await page.waitForURL(/\/portal\/m\/HelpDesk(\?sort=[^&]+&dir=\w+)?$/);

    await page.fill('#bp-filter-ticket_title', 'line');
    // A picklist filter applies itself when chosen (progressive JavaScript).
    await Promise.all([page.waitForURL(/f_status=Open/), page.selectOption('#bp-filter-status', 'Open')]);
    const statuses = await page.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(statuses.length).to.be.greaterThan(0);
    for (const status of statuses) expect(status).to.equal('Open');
    for (const title of await page.locator('tbody tr td:nth-child(2)').allTextContents()) expect(title.toLowerCase()).to.include('line');
    await page.screenshot({ path: join(ARTIFACTS, 'portal-list-search.png'), fullPage: true });
    // With the keyboard, the arrows only browse the statuses (WCAG 3.2.2): the list waits for Enter.
    const listed = page.url();
    await page.focus('#bp-filter-status');
    await page.keyboard.press('ArrowDown');
    const browsed = await page.inputValue('#bp-filter-status');
    expect(browsed).to.not.equal('Open');
    await page.waitForTimeout(300);
    expect(page.url()).to.equal(listed);
    expect(await page.evaluate('document.activeElement.id')).to.equal('bp-filter-status');
    await Promise.all([page.waitForURL(new RegExp(`f_status=${encodeURIComponent(browsed).replace(/%20/g, '\\+')}`)), page.keyboard.press('Enter')]);

    await page.goto(`${test.url}/portal/m/HelpDesk`);
    await Promise.all([page.waitForURL(/sort=ticket_no&dir=asc/), page.click('th a:has-text("Ticket number")')]);
    expect(await page.locator('th:has-text("Ticket number")').getAttribute('aria-sort')).to.equal('ascending');
    const numbers = await page.locator('tbody tr td:nth-child(1)').allTextContents();
    expect(numbers.map((n) => n.trim())).to.deep.equal([...numbers.map((n) => n.trim())].sort());
  });

  it('opens a ticket, comments, uploads by the picker and by dragging, and resolves it', async () => {
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk\/\d+\?list=/), page.click('tbody tr:first-child .bp-row-link')]);
    expect(await page.locator('a[data-return-to-list]').textContent()).to.include('Return to');
    // The way back is the list as it was left: sorted by ticket number.
    expect(await page.locator('a[data-return-to-list]').getAttribute('href')).to.equal('/portal/m/HelpDesk?sort=ticket_no&dir=asc');
    await check('ticket');

    const before = Number(/\((\d+)\)/.exec((await page.locator('#bp-comments-title').textContent()) ?? '')![1]);
    await page.fill('#bp-comment-body', 'Checked from the browser: still happening.');
    await Promise.all([page.waitForURL(/notice=commented/), page.click('button:has-text("Send the comment")')]);
    expect(await page.locator('#bp-comments-title').textContent()).to.equal(`Comments (${before + 1})`);
    expect(await page.locator('.bp-comment').first().textContent()).to.include('Checked from the browser');

    await page.setInputFiles('#bp-upload-file', { name: 'controller-log.txt', mimeType: 'text/plain', buffer: Buffer.from('02:00 reboot\n02:05 reboot\n') });
    expect(await page.locator('[data-drop-chosen]').textContent()).to.equal('Chosen: controller-log.txt');
    await Promise.all([page.waitForURL(/notice=uploaded/), page.click('button:has-text("Upload")')]);
    expect(await page.locator('.bp-documents').textContent()).to.include('controller-log.txt');
    // Each outcome in the page at load is said by the title too (a status at load is not announced).
    const ticketTitle = (await page.locator('h1').textContent())!.trim();
    expect(await page.title()).to.equal(`The document was added. · ${ticketTitle} · Customer portal`);

    // Drag and drop: a file dropped on the zone becomes the form's file.
    const dropped = await page.evaluateHandle(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped bytes\\n'], 'dropped-notes.txt', { type: 'text/plain' }));
      return transfer;
    })()`);
    await page.dispatchEvent('[data-drop-zone]', 'dragenter', { dataTransfer: dropped });
    await page.dispatchEvent('[data-drop-zone]', 'drop', { dataTransfer: dropped });
    expect(await page.locator('[data-drop-chosen]').textContent()).to.equal('Chosen: dropped-notes.txt');
    await Promise.all([page.waitForURL(/notice=uploaded/), page.click('button:has-text("Upload")')]);
    expect(await page.locator('.bp-documents').textContent()).to.include('dropped-notes.txt');

    // A refused file says why, and keeps the title the customer typed for it.
    await page.setInputFiles('#bp-upload-file', { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<html></html>') });
    await page.fill('#bp-upload-title', 'Wiring diagram, ünïcode');
    await page.click('button:has-text("Upload")');
    await page.waitForSelector('#bp-upload-error');
    expect(await page.locator('#bp-upload-error').textContent()).to.equal('This type of file is not allowed.');
    expect(await page.inputValue('#bp-upload-title')).to.equal('Wiring diagram, ünïcode');
    await check('ticket-upload-refused');

    await page.goBack();
    await page.reload();
    await Promise.all([page.waitForURL(/notice=resolved/), page.click('button[data-resolve]')]);
    expect(await page.locator('.bp-notice').textContent()).to.equal('The ticket is closed. Thank you!');
    expect(await page.title()).to.equal(`The ticket is closed. Thank you! · ${ticketTitle} · Customer portal`);
    expect(await page.locator('button[data-resolve]').count()).to.equal(0);
    expect(await page.locator('[data-status]').textContent()).to.equal('Status: Closed');
    expect(await page.locator('.bp-hint:has-text("This ticket is closed.")').count(), 'one notice, not two').to.equal(0);
    await check('ticket-resolved');
  });

  it('creates a ticket: the missing mandatory title is said next to it, then the ticket is created', async () => {
    await page.goto(`${test.url}/portal/`);
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk\/new$/), page.click('.bp-action:has-text("New ticket")')]);
    await check('new-ticket');
    await page.selectOption('#bp-field-priority', 'High');
    await page.fill('#bp-field-description', 'The label printer skips every third label.');
    await page.click('button:has-text("Create")');
    await page.waitForSelector('#bp-field-ticket_title-error');
    expect(await page.locator('#bp-field-ticket_title-error').textContent()).to.equal('This field is mandatory.');
    expect(await page.inputValue('#bp-field-description')).to.equal('The label printer skips every third label.');
    expect(await page.locator('#bp-field-ticket_title').getAttribute('aria-invalid')).to.equal('true');
    // The field the refusal names has the focus, ready to be typed in.
    expect(await autofocused(page)).to.equal('bp-field-ticket_title');
    await check('new-ticket-refused');
    await page.fill('#bp-field-ticket_title', 'Label printer skips labels');
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk\/\d+\?notice=created$/), page.click('button:has-text("Create")')]);
    expect(await page.locator('h1').textContent()).to.equal('Label printer skips labels');
    expect(await page.locator('.bp-notice').textContent()).to.include('Your ticket was created.');
    expect(await page.title()).to.equal('Your ticket was created. Our support team will answer soon. · Label printer skips labels · Customer portal');
  });

  it('works on a 360-pixel-wide phone: the menu folds, nothing scrolls sideways', async () => {
    await page.setViewportSize(PHONE);
    for (const [name, path] of [['home-phone', '/'], ['list-phone', '/m/HelpDesk'], ['ticket-phone', null]] as const) {
      if (path) await page.goto(`${test.url}/portal${path}`);
      else await page.click('tbody tr:first-child .bp-row-link');
      await page.waitForLoadState('load');
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      expect(overflow, `${name}: sideways scroll`).to.be.at.most(0);
      expect(await page.locator('.bp-menu-list').isVisible(), `${name}: menu folded`).to.equal(false);
      // The header and the menu's toggle take two short rows, so the page's own content starts near the top.
      const contentTop = (await page.locator('.bp-content').boundingBox())!.y;
      expect(contentTop, `${name}: content starts at`).to.be.below(170);
      expect(await page.locator('.bp-account button:has-text("Log out")').isVisible()).to.equal(true);
      expect(await smallTapTargets(page, { exempt: '.bp-skip, .bp-menu-list' }), `${name}: tap targets under 40 px`).to.deep.equal([]);
      await check(name);
    }
    await page.click('.bp-menu-toggle');
    expect(await page.locator('.bp-menu-list').isVisible()).to.equal(true);
    await page.screenshot({ path: join(ARTIFACTS, 'portal-menu-phone.png'), fullPage: true });
    await page.setViewportSize(DESKTOP);
  });

  it('downloads a Documents record’s file from its page, and searches invoices by a picked date', async () => {
    await page.goto(`${test.url}/portal/m/Documents`);
    await Promise.all([page.waitForURL(/\/portal\/m\/Documents\/\d+$/), page.click('a.bp-row-link:has-text("Acme Ltd - Master service agreement")')]);
    expect(await page.locator('[data-download-details]').textContent()).to.match(/^acme-master-service-agreement\.pdf, \d+(\.\d)? (B|KB)$/);
    expect(await page.locator('[data-field="filesize"] dd').textContent()).to.match(/^\d+(\.\d)? (B|KB)$/);
    await check('document');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-download]')]);
    expect(download.suggestedFilename()).to.equal('acme-master-service-agreement.pdf');

    await page.goto(`${test.url}/portal/m/Invoice`);
    const date = await invoiceDate(test, 'INV-1002');
    await page.fill('#bp-filter-invoicedate', date);
    await Promise.all([page.waitForURL(new RegExp(`f_invoicedate=${date}`)), page.press('#bp-filter-subject', 'Enter')]);
    expect((await page.locator('tbody .bp-row-link').allTextContents()).map((t) => t.trim())).to.deep.equal(['INV-1002']);
    await check('invoices-date');
    // An amount that is no number (typed in the address, or by a browser without the keyboard hint).
    await page.goto(`${test.url}/portal/m/Invoice?f_total=about+6000&f_subject=Line`);
    expect(await page.locator('#bp-list-problem').textContent()).to.include('“Total”: this is not a number');
    expect(await page.inputValue('#bp-filter-total')).to.equal('about 6000');
    expect(await page.inputValue('#bp-filter-subject')).to.equal('Line');
    expect(await page.locator('#bp-filter-total').getAttribute('aria-invalid')).to.equal('true');
    expect(await autofocused(page)).to.equal('bp-filter-total');
    await check('invoices-unreadable');
  });

  it('speaks Italian to Mario on his invoices, the FAQ and his own contact form', async () => {
    const italian = await browser.newContext({ locale: 'it-IT', viewport: DESKTOP, bypassCSP: true });
    page = await italian.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', MARIO);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('button:has-text("Accedi")')]);
    expect(await page.locator('h1').textContent()).to.equal('Ti diamo il benvenuto, Mario Rossi');
    await check('home-it');
    await page.click('.bp-menu-link:has-text("Fatture")');
    await page.waitForURL(/\/portal\/m\/Invoice$/);
    await check('invoices-it');
    await page.click('tbody tr:first-child .bp-row-link');
    await page.waitForURL(/\/portal\/m\/Invoice\/\d+$/);
    expect(await page.locator('[data-field="invoicedate"] dd').textContent()).to.match(/^\d{1,2} [a-z]{3} \d{4}$/);
    // Invoices have the documents tool in the demo: the same upload form as a ticket's.
    await page.setInputFiles('#bp-upload-file', { name: 'ordine-4711.txt', mimeType: 'text/plain', buffer: Buffer.from('Ordine 4711\n') });
    await Promise.all([page.waitForURL(/notice=uploaded/), page.click('.bp-upload button[type="submit"]')]);
    expect(await page.locator('.bp-notice').textContent()).to.equal('Il documento è stato aggiunto.');
    expect(await page.locator('.bp-documents').textContent()).to.include('ordine-4711.txt');
    await check('invoice-it');
    await page.goto(`${test.url}/portal/m/Faq`);
    await check('faq-it');
    await page.goto(`${test.url}/portal/m/Contacts`);
    await page.click('tbody tr:first-child .bp-row-link');
    await page.click('a:has-text("Modifica")');
    await page.waitForURL(/\/edit$/);
    await check('contact-edit-it');
    await italian.close();
  });
});
