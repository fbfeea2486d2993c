import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { SMTPServer } from 'smtp-server';
import { PORTAL_TEMPLATE_NAMES, STANDARD_TEMPLATES } from '../../host/email-templates/standard-templates.js';
import { InvalidMailError } from '../../host/mail/smtp-mail.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { TEST_ADMIN_PASSWORD, crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { startScriptedSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';
import { startSilentSmtp } from '../support/silent-smtp.js';

const XSS = '<img src=x onerror=alert(1)>';

async function templateId(api: HostApi, name: string): Promise<number> {
  const template = (await api.emailTemplates.templates()).find((t) => t.name === name);
  if (!template) throw new Error(`no template ${name}`);
  return template.id;
}

async function outboxRows(api: HostApi): Promise<{ subject: string; route: string }[]> {
  return api.database.sequelize.query<{ subject: string; route: string }>('SELECT subject, route FROM crm_mail_outbox ORDER BY id', { type: QueryTypes.SELECT });
}

describe('the standard templates’ Italian', () => {
  it('writes the apostrophe as the portal’s Italian does, the typographic ’ (all’indirizzo)', () => {
    for (const template of STANDARD_TEMPLATES) {
      const { subject, html, text } = template.versions.it;
      for (const part of [subject, html, text]) expect(part, template.name).not.to.match(/\p{L}'\p{L}/u);
    }
  });

  it('merges in Italian every field the English merges, in the subject, the HTML and the text', () => {
    const merged = (part: string) => [...new Set([...part.matchAll(/\{\{[^}]+\}\}/g)].map(([field]) => field))].sort();
    for (const template of STANDARD_TEMPLATES) {
      for (const part of ['subject', 'html', 'text'] as const) {
        expect(merged(template.versions.it[part]), `${template.name}: ${part}`).to.deep.equal(merged(template.versions.en[part]));
      }
    }
  });
});

describe('email templates and mail @db', () => {
  describe('templates and the outbox (no SMTP_URL)', () => {
    let test: TestHost;
    before(async () => {
      test = await startTestHost({ pluginManifests: [] });
    });
    after(async () => {
      await test?.stop();
    });

    it('has the five portal templates and the CRM ones, in English and Italian', async () => {
      const templates = await test.host.api.emailTemplates.templates();
      for (const name of Object.values(PORTAL_TEMPLATE_NAMES)) {
        const template = templates.find((t) => t.name === name);
        expect(template, name).to.not.equal(undefined);
        expect(template!.languages).to.deep.equal(['en', 'it']);
      }
      expect(templates.length).to.be.greaterThan(5);
      const id = await templateId(test.host.api, PORTAL_TEMPLATE_NAMES.newTicket);
      expect(await test.host.api.emailTemplates.template(id)).to.include({ id, module: 'HelpDesk' });
      expect(await test.host.api.emailTemplates.template(987654)).to.equal(null);
    });

    it('renders merge fields escaped in HTML, in either language, falling back to the default one', async () => {
      const api = test.host.api;
      const id = await templateId(api, PORTAL_TEMPLATE_NAMES.registration);
      const data = {
        contact: { firstname: XSS },
        portal: { url: 'https://crm.example.com/portal', email: 'jane@example.com', password: 'p<&>"w' },
      };
      const en = await api.emailTemplates.render(id, 'en', data);
      expect(en.subject).to.equal('Your access to the customer portal');
      expect(en.html).to.include('Dear &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;,');
      expect(en.html).not.to.include(XSS);
      expect(en.html).to.include('Password: p&lt;&amp;&gt;&quot;w');
      expect(en.html).to.include('<a href="https://crm.example.com/portal">');
      expect(en.text, 'the text part is plain').to.include(`Dear ${XSS},`).and.to.include('Password: p<&>"w');

      const it = await api.emailTemplates.render(id, 'it', data);
      expect(it.subject).to.equal('Il tuo accesso al portale clienti');
      expect(it.html).to.include('Gentile &lt;img').and.not.to.include(XSS);

      const fallback = await api.emailTemplates.render(id, 'de', data);
      expect(fallback.subject).to.equal(en.subject);
    });

    it('keeps a subject on one line whatever the data holds', async () => {
      const id = await templateId(test.host.api, PORTAL_TEMPLATE_NAMES.newTicket);
      const rendered = await test.host.api.emailTemplates.render(id, 'en', { ticket: { ticket_no: 'TT7', ticket_title: 'Hi\r\nBcc: victim@example.com' } });
      expect(rendered.subject).to.equal('Ticket TT7: Hi Bcc: victim@example.com');
    });

    it('keeps mail in the outbox when no SMTP server is configured, shown escaped to admins', async () => {
      const api = test.host.api;
      const result = await api.mail.send(
        { to: [{ address: 'jane@example.com', name: 'Jane' }], subject: `Hello ${XSS}`, html: `<p>${XSS}</p>`, text: `Body ${XSS}` },
        { via: 'global' },
      );
      expect(result.messageId).to.match(/^<.+@localhost>$/);
      await api.mail.send({ to: [{ address: 'mario@example.com' }], subject: 'Second', html: '<p>2</p>', text: '2' }, { via: 'user', userId: 1 });
      expect(await outboxRows(api)).to.deep.equal([
        { subject: `Hello ${XSS}`, route: 'global' },
        { subject: 'Second', route: 'global' },
      ]);

      const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
      const page = await (await fetch(`${test.url}/outbox`, { headers: { cookie: admin } })).text();
      expect(page).not.to.include(XSS);
      expect(page).to.include('Hello &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
      expect(page.indexOf('Second'), 'newest first').to.be.lessThan(page.indexOf('Hello &lt;img'));
      expect(page).to.include('no SMTP server is configured (set <code>SMTP_URL</code>)');
    });

    it('refuses malformed addresses and keeps nothing', async () => {
      const api = test.host.api;
      const before = (await outboxRows(api)).length;
      for (const to of [[], [{ address: 'not-an-address' }], [{ address: 'a@example.com\r\nBcc: b@example.com' }], [{ address: 'a@example.com', name: 'A\r\nBcc: b@example.com' }]]) {
        let refused: unknown;
        try {
          await api.mail.send({ to, subject: 's', html: 'h', text: 't' }, { via: 'global' });
        } catch (error) {
          refused = error;
        }
        expect(refused, JSON.stringify(to)).to.be.instanceOf(InvalidMailError);
      }
      expect((await outboxRows(api)).length).to.equal(before);
    });
  });

  describe('through real SMTP servers on loopback', () => {
    let test: TestHost;
    let global: ScriptedSmtp;
    let personal: ScriptedSmtp;

    before(async () => {
      global = await startScriptedSmtp();
      personal = await startScriptedSmtp();
      test = await startTestHost({ pluginManifests: [], smtpUrl: global.url, baseUrl: 'https://crm.example.com' });
      const [sara] = await test.host.api.database.sequelize.query<{ id: unknown }>("SELECT id FROM crm_users WHERE user_name = 'sara.support'", { type: QueryTypes.SELECT });
      await test.host.api.database.sequelize.getQueryInterface().bulkInsert('crm_mail_accounts', [
        { user_id: Number(sara!.id), smtp_url: personal.url, from_address: 'sara@example.com', from_name: 'Sara Bianchi', created_at: new Date(), updated_at: new Date() },
      ]);
    });
    after(async () => {
      await test?.stop();
      await global?.close();
      await personal?.close();
    });

    it('sends a rendered template through SMTP_URL', async () => {
      const api = test.host.api;
      const id = await templateId(api, PORTAL_TEMPLATE_NAMES.passwordRecovery);
      const rendered = await api.emailTemplates.render(id, 'it', { contact: { firstname: 'Mario' }, portal: { resetUrl: api.http.publicUrl('/portal/reset?t=abc') } });
      await api.mail.send({ to: [{ address: 'mario.rossi@example.com', name: 'Mario Rossi' }], replyTo: { address: 'help@example.com' }, ...rendered }, { via: 'global' });

      expect(global.received).to.have.length(1);
      const mail = global.received[0]!;
      expect(mail.subject).to.equal('Reimposta la password del portale');
      expect(mail.from?.value).to.deep.equal([{ address: 'crm@crm.example.com', name: 'Reference CRM' }]);
      expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).to.deep.equal([{ address: 'mario.rossi@example.com', name: 'Mario Rossi' }]);
      expect(mail.replyTo?.value[0]?.address).to.equal('help@example.com');
      expect(mail.html).to.include('<a href="https://crm.example.com/portal/reset?t&#x3D;abc">');
      expect(mail.text).to.include('Gentile Mario,').and.to.include('https://crm.example.com/portal/reset?t=abc');
      expect(await outboxRows(api)).to.deep.equal([]);
    });

    it('says the mail’s language in Content-Language (1.8.0), and writes no header line from anything but a language tag', async () => {
      const api = test.host.api;
      const since = global.received.length;
      await api.mail.send({ to: [{ address: 'mario.rossi@example.com' }], subject: 'Lingua', html: '<p>x</p>', text: 'x', language: 'it' }, { via: 'global' });
      await api.mail.send({ to: [{ address: 'mario.rossi@example.com' }], subject: 'Forged', html: '<p>x</p>', text: 'x', language: 'it\r\nBcc: evil@example.net' }, { via: 'global' });
      await api.mail.send({ to: [{ address: 'mario.rossi@example.com' }], subject: 'None', html: '<p>x</p>', text: 'x' }, { via: 'global' });
      const [italian, forged, none] = global.received.slice(since);
      expect(italian!.headers.get('content-language')).to.equal('it');
      expect(forged!.headers.get('content-language')).to.equal(undefined);
      expect(forged!.headers.get('bcc')).to.equal(undefined);
      expect(none!.headers.get('content-language')).to.equal(undefined);
    });

    it("uses a user's own account for via: 'user', and the global server for users without one", async () => {
      const api = test.host.api;
      const users = await api.users.users();
      const sara = users.find((u) => u.userName === 'sara.support')!;
      const tom = users.find((u) => u.userName === 'tom.support')!;
      expect(await api.mail.hasUserAccount(sara.id)).to.equal(true);
      expect(await api.mail.hasUserAccount(tom.id)).to.equal(false);

      await api.mail.send({ to: [{ address: 'jane.doe@example.com' }], subject: 'From Sara', html: '<p>x</p>', text: 'x' }, { via: 'user', userId: sara.id });
      await api.mail.send({ to: [{ address: 'jane.doe@example.com' }], subject: 'From Tom', html: '<p>y</p>', text: 'y' }, { via: 'user', userId: tom.id });
      expect(personal.received.map((m) => [m.subject, m.from?.value[0]?.address])).to.deep.equal([['From Sara', 'sara@example.com']]);
      expect(global.received.map((m) => m.subject)).to.include('From Tom').and.not.to.include('From Sara');
    });
  });
});

describe('a mail server that stays silent: the SMTP URL\'s query sets the bounds', function () {
  this.timeout(15_000);

  // A timeout is a failure of the moment: the mail is kept to be tried again (`crm_mail_queue`) and
  // `send` resolves; a mail not to be retried (`retry: false`) gets the error.
  async function sendThrough(smtpUrl: string): Promise<{ error: unknown; ms: number; kept: number; notRetried: { error: unknown; ms: number } }> {
    const test = await startTestHost({ pluginManifests: [], smtpUrl, mailRetryMs: 0 });
    const timed = async (retry?: false) => {
      const started = Date.now();
      const error = await test.host.api.mail
        .send({ to: [{ address: 'someone@example.com' }], subject: 'Hello', html: '<p>Hello</p>', text: 'Hello', ...(retry === false ? { retry } : {}) }, { via: 'global' })
        .then(
          () => null,
          (failure: unknown) => failure,
        );
      return { error, ms: Date.now() - started };
    };
    try {
      const first = await timed();
      const [row] = await test.host.api.database.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM crm_mail_queue', { type: QueryTypes.SELECT });
      return { ...first, kept: Number(row!.n), notRetried: await timed(false) };
    } finally {
      await test.stop();
    }
  }

  it('gives up on a server that never greets after ?greetingTimeout (the URL overrides the 10 s default)', async () => {
    const silent = await startSilentSmtp();
    try {
      const { error, ms, kept, notRetried } = await sendThrough(`${silent.url}?greetingTimeout=300`);
      expect(error, 'kept to be tried again').to.equal(null);
      expect(kept).to.equal(1);
      expect(ms).to.be.below(3_000);
      expect(notRetried.error).to.be.instanceOf(Error);
      expect(notRetried.ms).to.be.below(3_000);
      expect(silent.connections).to.equal(2);
    } finally {
      await silent.close();
    }
  });

  it('gives up on a server that greets and then stalls after MAIL FROM after ?socketTimeout', async () => {
    const stalled = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onMailFrom() {} });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const { error, ms, kept, notRetried } = await sendThrough(`smtp://127.0.0.1:${(stalled.server.address() as AddressInfo).port}?socketTimeout=500`);
      expect(error, 'kept to be tried again').to.equal(null);
      expect(kept).to.equal(1);
      expect(ms).to.be.below(3_000);
      expect(notRetried.error).to.be.instanceOf(Error);
      expect(notRetried.ms).to.be.below(3_000);
    } finally {
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });
});
