/**
 * Every mail a customer or a ticket's owner gets, its HTML part opened in Chromium as a phone
 * (375 px) and a narrow mail pane (700 px) show it: nothing wider than the screen — not the reset
 * or unlock link every customer gets (one word of 90 characters), nor a long URL or word in a
 * ticket's title, description or reply —, and the mail says its language (`Content-Language`, and
 * `<html lang>` for a screen reader) and the part fits the screen (`viewport`). Screenshots in `test-artifacts/mail-on-phone/`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import type { Browser } from 'playwright-core';
import { PortalClient, startSignInHost, type SignInHost } from '../sign-in/sign-in-fixture.js';
import { adminClient } from '../profiles/profile-test-kit.js';
import { enablePortalUser } from '../settings/settings-test-kit.js';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';

const PASSWORD = 'Correct-horse-7';
const LONG_URL = `https://example.com/${'averyverylongpathsegment'.repeat(5)}?q=1`;

describe('notifications: every mail fits a phone and says its language (browser) @db', function () {
  this.timeout(120_000);
  let host: SignInHost;
  let browser: Browser;

  before(async function () {
    skipWithoutChromium(this);
    browser = await sharedChromium();
    // The demo's profile shows tickets with their comments, and its owner (Sara) reads Italian.
    host = await startSignInHost({ baseUrl: 'https://portal.example.test/crm', demo: true });
  });
  after(async () => {
    await releaseChromium(browser);
    await host?.stop();
  });

  /** Every kind of mail to a customer writing `language`, and the owner's mail of their ticket. */
  async function mailsOf(language: 'en' | 'it'): Promise<Record<string, ParsedMail>> {
    const api = host.test.host.api;
    const mails: Record<string, ParsedMail> = {};
    const email = `phone.${language}@example.com`;
    const contact = await api.records.create('Contacts', { values: { firstname: 'Ada', lastname: 'Phone', email, language } });
    mails.access = await enablePortalUser(host.url, await adminClient(host.test, 'admin', 'Admin-demo-1'), contact.id, host.mailbox, email);
    await host.exec('UPDATE bp_portal_accounts SET must_change_password = :no WHERE contact_id = :id', { no: false, id: contact.id });

    let since = host.mailbox.received.length;
    expect((await new PortalClient(host.portal).api('/auth/forgot', { email })).status).to.equal(202);
    mails.recovery = await host.mailbox.waitFor(email, { since });
    const token = /reset-password\?token=([A-Za-z0-9_-]{43})/.exec(mails.recovery.text ?? '')![1]!;
    since = host.mailbox.received.length;
    expect((await new PortalClient(host.portal).api('/auth/reset', { token, newPassword: PASSWORD })).status).to.equal(204);
    mails.changed = await host.mailbox.waitFor(email, { since });

    since = host.mailbox.received.length;
    const title = `Printer jam, see ${LONG_URL}`;
    const description = `Steps: ${'Supercalifragilistic'.repeat(6)}\n${LONG_URL}`;
    const ticket = await api.database.sequelize.transaction((transaction) =>
      api.records.create('HelpDesk', { values: { ticket_title: title, description, status: 'Open', contact_id: contact.id } }, { transaction, actor: { kind: 'contact', contactId: contact.id } }),
    );
    mails.newTicket = await host.mailbox.waitFor(email, { since });
    mails.owner = await host.mailbox.waitFor('sara.support@example.com', { since });

    since = host.mailbox.received.length;
    const admin = (await api.users.users()).find((user) => user.userName === 'admin')!;
    await api.records.addComment('HelpDesk', ticket.id, { body: `Please try this:\n${LONG_URL}`, internal: false }, { actor: { kind: 'user', userId: admin.id } });
    mails.reply = await host.mailbox.waitFor(email, { since });

    since = host.mailbox.received.length;
    for (let i = 0; i < 5; i++) await new PortalClient(host.portal).api('/auth/login', { email, password: 'Wrong-password-9' });
    mails.locked = await host.mailbox.waitFor(email, { since });

    const coded = `phone.code.${language}@example.com`;
    await host.addCustomer({ email: coded, password: PASSWORD, language, firstname: 'Ada', profileId: await host.twoFactorProfile() });
    since = host.mailbox.received.length;
    expect((await new PortalClient(host.portal).api('/auth/login', { email: coded, password: PASSWORD })).status).to.equal(202);
    mails.code = await host.mailbox.waitFor(coded, { since });
    return mails;
  }

  for (const language of ['it', 'en'] as const) {
    it(`shows each ${language} mail within a 375 px phone and a 700 px pane, in a part that says its language`, async () => {
      const mails = await mailsOf(language);
      const shots = artifactsDir('mail-on-phone');
      for (const [kind, mail] of Object.entries(mails)) {
        const html = typeof mail.html === 'string' ? mail.html : '';
        // The owner (Sara) reads Italian whatever the customer's language.
        const expected = kind === 'owner' ? 'it' : language;
        expect(mail.headers.get('content-language'), `${language} ${kind}: Content-Language`).to.equal(expected);
        for (const width of [375, 700]) {
          const page = await browser.newPage({ viewport: { width, height: 640 } });
          try {
            await page.setContent(html);
            const shown = (await page.evaluate(`({
              lang: document.documentElement.lang,
              viewport: document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? '',
              scrollWidth: document.documentElement.scrollWidth,
            })`)) as { lang: string; viewport: string; scrollWidth: number };
            await page.screenshot({ path: join(shots, `${language}-${kind}-${width}.png`), fullPage: true });
            expect(shown.scrollWidth, `${language} ${kind} at ${width} px: wider than the screen`).to.be.at.most(width);
            expect(shown.lang, `${language} ${kind}: <html lang>`).to.equal(expected);
            expect(shown.viewport, `${language} ${kind}: viewport`).to.include('width=device-width');
          } finally {
            await page.close();
          }
        }
        writeFileSync(join(shots, `${language}-${kind}.html`), html);
      }
    });
  }
});
