/**
 * The names files download under, in headless Chromium: a name with an apostrophe and letters
 * beyond ASCII ("l'offerta", "dell'anno", accents, dashes — everyday Italian) is saved as it was
 * uploaded, not as the plain-ASCII fallback with its underscores. RFC 5987's `filename*` allows no
 * `'`, `(`, `)` or `*` unencoded; Chromium drops a `filename*` that has one.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import type { TestHost } from '../support/host.js';
import { API, apiClient, idsWhere, JANE, portalLogin, startApiHost } from '../portal-api/api-test-kit.js';

const NAMES = ["l'offerta – revisione (2).txt", "preventivo dell'unità 7.txt", 'Überweisung Nr. 7.txt'];

describe('download names in a browser @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let browser: Browser;
  let cookie: string;
  let ticket: number;

  before(async function () {
    skipWithoutChromium(this);
    test = await startApiHost();
    browser = await sharedChromium();
    cookie = await portalLogin(test, JANE);
    ticket = (await idsWhere(test.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  it('saves a file under the name it was uploaded with, apostrophes, brackets and accents included', async () => {
    const jane = apiClient(test, cookie);
    const ids: number[] = [];
    const headers: string[] = [];
    for (const name of NAMES) {
      const up = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name, content: 'Line 2 controller trace\n' });
      expect(up.status, up.text).to.equal(201);
      expect(up.body.fileName).to.equal(name);
      ids.push(up.body.id as number);
      const download = await fetch(`${test.url}${API}${up.body.contentPath as string}`, { headers: { cookie } });
      headers.push(download.headers.get('content-disposition') ?? '');
    }

    const [name, value] = cookie.split('=') as [string, string];
    const context = await browser.newContext({ acceptDownloads: true });
    await context.addCookies([{ name, value, url: test.url }]);
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/m/HelpDesk/${ticket}`);
    const saved: string[] = [];
    for (const id of ids) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`a[download][href*="/documents/${id}"]`)]);
      saved.push(download.suggestedFilename());
      await download.cancel();
    }
    await context.close();
    expect(saved).to.deep.equal(NAMES);
    // Only RFC 5987's attr-chars and %-escapes after UTF-8''.
    for (const header of headers) expect(header).to.match(/; filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
  });
});
