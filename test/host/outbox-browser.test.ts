/**
 * The outbox page in Chromium: a CRM admin sends a given-up mail again, and deletes another, with
 * the page's own buttons (the host's CSP, its CSRF token and the redirect back included).
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { SmtpMail } from '../../host/mail/smtp-mail.js';
import { releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { startScriptedSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';

describe('outbox page in Chromium: given-up mail sent again or deleted', function () {
  this.timeout(90_000);
  let test: TestHost;
  let smtp: ScriptedSmtp;
  let browser: Browser;
  let page: Page;

  before(async function () {
    skipWithoutChromium(this);
    smtp = await startScriptedSmtp();
    test = await startTestHost({ pluginManifests: [], smtpUrl: smtp.url, mailRetryMs: 0 });
    browser = await sharedChromium();
    page = await (await browser.newContext()).newPage();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
    await smtp?.close();
  });

  function mail(): SmtpMail {
    const sender = test.host.api.mail;
    if (!(sender instanceof SmtpMail)) throw new Error('the reference host sends through SmtpMail');
    return sender;
  }

  async function giveUp(subject: string): Promise<string> {
    smtp.answer(421, 421);
    const { messageId } = await test.host.api.mail.send({ to: [{ address: 'jane.doe@example.com' }], subject, html: `<p>${subject}</p>`, text: subject }, { via: 'global' });
    await mail().retryDue(new Date(Date.now() + 25 * 60 * 60_000));
    return messageId;
  }

  /** The outbox page loaded again after a form's POST (its 303 back to the page). */
  const reloaded = () => page.waitForResponse((response) => response.url() === `${test.url}/outbox` && response.request().method() === 'GET' && response.status() === 200);

  const rows = () => test.host.api.database.sequelize.query<{ subject: string; given_up_at: unknown }>('SELECT subject, given_up_at FROM crm_mail_queue ORDER BY id', { type: QueryTypes.SELECT });

  it('puts a given-up mail back with Send again, and it is delivered at the next run', async () => {
    const messageId = await giveUp('Browser: send me again');
    await signInToCrm(page, `${test.url}/outbox`);
    const row = page.locator('tr', { hasText: 'Browser: send me again' });
    expect(await row.textContent()).to.include('Given up');
    await Promise.all([reloaded(), row.getByRole('button', { name: 'Send again' }).click()]);
    expect(await page.locator('tr', { hasText: 'Browser: send me again' }).textContent()).not.to.include('Given up');
    expect((await rows()).map((r) => [r.subject, r.given_up_at])).to.deep.equal([['Browser: send me again', null]]);
    await mail().retryDue(new Date(Date.now() + 1000));
    expect(smtp.received.map((m) => m.messageId)).to.deep.equal([messageId]);
  });

  it('removes a given-up mail with Delete', async () => {
    await giveUp('Browser: delete me');
    await page.goto(`${test.url}/outbox`);
    const row = page.locator('tr', { hasText: 'Browser: delete me' });
    await Promise.all([reloaded(), row.getByRole('button', { name: 'Delete' }).click()]);
    expect(await page.locator('tr', { hasText: 'Browser: delete me' }).count()).to.equal(0);
    expect(await rows()).to.deep.equal([]);
  });
});
