/**
 * A customer's phone downloads the portal's stylesheets and scripts once. In headless Chromium on
 * the demo, Jane signs in, her browser's cache is emptied, and she opens her home and then her
 * ticket list. The browser talks to a counting server in front of the host's own Express app (in
 * this process): it records every request it receives and the bytes it sends. The home fetches
 * each asset once; the ticket list fetches none (`immutable`, a year). The bytes of each page are
 * printed: the README quotes them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { signedInPage } from './portal-pages-kit.js';

const PHONE = { width: 360, height: 740 };
const SHARED_ASSETS = ['portal.css', 'workspace.css', 'auto-submit.js', 'workspace.js'];

/** What the counting server received and sent since `reset`. */
interface Traffic {
  readonly paths: string[];
  readonly bytes: number;
}

describe('portal assets in a browser: a phone downloads them once', function () {
  this.timeout(180_000);
  let test: TestHost;
  let server: Server;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let paths: string[] = [];
  const sockets = new Set<Socket>();
  let closedBytes = 0;
  let bytesAtReset = 0;

  const sentBytes = () => closedBytes + [...sockets].reduce((sum, socket) => sum + socket.bytesWritten, 0);
  function reset(): void {
    paths = [];
    bytesAtReset = sentBytes();
  }
  function traffic(): Traffic {
    return { paths: [...paths], bytes: sentBytes() - bytesAtReset };
  }
  const assetRequests = (seen: Traffic, name: string) => seen.paths.filter((path) => path.split('?')[0] === `/portal/assets/${name}`).length;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost({ demo: true });
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      test.host.app(req, res);
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => {
        closedBytes += socket.bytesWritten;
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await sharedChromium();
    context = await browser.newContext({ locale: 'en-GB', viewport: PHONE });
    page = await context.newPage();
    await signedInPage(page, url);
  });
  after(async () => {
    await releaseChromium(browser);
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await test?.stop();
  });

  it('fetches the stylesheets and scripts for the home, and none of them again for the ticket list', async () => {
    // A phone that has not been here yet: nothing in its cache.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');

    reset();
    await page.goto(`${url}/portal/`);
    // Chromium fetches the page's icon after the load, on its own: wait for it to be in this page's count.
    await page.waitForLoadState('networkidle');
    const home = traffic();

    reset();
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk$/), page.click('.bp-action:has-text("My tickets")')]);
    await page.waitForLoadState('networkidle');
    const list = traffic();

    console.log(`      home: ${home.bytes} bytes in ${home.paths.length} requests; then the ticket list: ${list.bytes} bytes in ${list.paths.length} requests`);
    for (const name of SHARED_ASSETS) expect(assetRequests(home, name), `the home fetched ${name}: ${home.paths.join(' ')}`).to.equal(1);
    for (const name of SHARED_ASSETS) expect(assetRequests(list, name), `the ticket list fetched ${name} again: ${list.paths.join(' ')}`).to.equal(0);
    expect(list.paths.filter((path) => path.startsWith('/portal/assets/')), 'no asset at all for the second page').to.deep.equal([]);
    expect(await page.locator('h1').textContent()).to.equal('Trouble Tickets');
    // The stylesheets from the cache apply to the second page: both loaded, with their rules.
    const applied = await page.evaluate(`[...document.styleSheets].filter((sheet) => sheet.cssRules.length > 0).map((sheet) => new URL(sheet.href).pathname)`);
    expect(applied).to.deep.equal(['/portal/assets/portal.css', '/portal/assets/workspace.css']);
  });
});
