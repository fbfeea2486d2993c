/**
 * A file far over the upload limit, sent from a ticket's page in headless Chromium over a slow
 * line (DevTools' upload throttling): the page saying the file is too large comes once the body
 * has passed the limit, not once the whole file has gone up — the server answers while the
 * browser still sends, reads on for a moment, then closes the connection, and Chromium shows
 * the answer it already has.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import type { TestHost } from '../support/host.js';
import { idsWhere, JANE, portalLogin, startApiHost } from '../portal-api/api-test-kit.js';

/** 60 MB at 4 MB a second: the whole file takes 15 seconds to go up. */
const FILE_BYTES = 60 * 1024 * 1024;
const UPLOAD_BYTES_PER_SECOND = 4 * 1024 * 1024;

describe('an upload over the limit in a browser @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let browser: Browser;
  let cookie: string;
  let ticket: number;
  let folder: string;

  before(async function () {
    skipWithoutChromium(this);
    test = await startApiHost();
    browser = await sharedChromium();
    cookie = await portalLogin(test, JANE);
    ticket = (await idsWhere(test.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
    folder = await mkdtemp(join(tmpdir(), 'bp-upload-limit-'));
    await writeFile(join(folder, 'recording.txt'), Buffer.alloc(FILE_BYTES, 0x61));
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('says the file is too large long before the whole file could have gone up, and stores nothing', async () => {
    const documents = await test.host.api.records.count('Documents');
    const [name, value] = cookie.split('=') as [string, string];
    const context = await browser.newContext({ locale: 'en-GB' });
    await context.addCookies([{ name, value, url: test.url }]);
    const page = await context.newPage();
    const devtools = await context.newCDPSession(page);
    await devtools.send('Network.enable');
    await devtools.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: UPLOAD_BYTES_PER_SECOND });
    await page.goto(`${test.url}/portal/m/HelpDesk/${ticket}`);
    await page.setInputFiles('#bp-upload-file', join(folder, 'recording.txt'));
    const started = Date.now();
    const [answer] = await Promise.all([page.waitForNavigation({ timeout: 60_000 }), page.click('form.bp-upload button[type=submit]')]);
    const took = Date.now() - started;
    expect(answer?.status()).to.equal(413);
    expect(await page.textContent('#bp-upload-error')).to.include('The file is too large');
    // The whole file needs 15 s on this line; 10 MB of it and the server's few seconds of reading on, about 6.
    expect(took).to.be.below((FILE_BYTES / UPLOAD_BYTES_PER_SECOND) * 1000 * 0.7);
    await context.close();
    expect(await test.host.api.records.count('Documents')).to.equal(documents);
  });
});
