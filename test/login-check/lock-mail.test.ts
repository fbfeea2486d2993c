/**
 * The lock email through the plugin's real `PortalMailer` and the reference host's mail (kept in
 * its outbox, `crm_mail_outbox`, as the test host has no SMTP server): exactly one per lock, to
 * the contact, with a working single-use unlock link.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { PORTAL_PASSWORD, startLoginCheckHost, type LoginCheckHost } from './login-check-host.js';

describe('login-check: the lock email through the real mailer @db', function () {
  this.timeout(60_000);
  let h: LoginCheckHost;

  before(async () => {
    h = await startLoginCheckHost({ realMailer: true });
  });
  after(async () => {
    await h?.stop();
  });

  const outbox = () =>
    h.api.database.sequelize.query<{ to_addresses: string; subject: string; text: string; html: string }>(
      'SELECT to_addresses, subject, text, html FROM crm_mail_outbox ORDER BY id',
      { type: QueryTypes.SELECT },
    );

  it('sends one email per lock with a link that unlocks once', async () => {
    const jane = await h.addCustomer({ firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com' });
    await h.lock('jane.doe@example.com');
    await h.portalLogin('jane.doe@example.com', 'Wrong-password-9');
    await h.mailsSettled();
    const mails = (await outbox()).filter((mail) => mail.to_addresses.includes('jane.doe@example.com'));
    expect(mails).to.have.length(1);
    const link = /https?:\/\/\S+\/portal\/unlock\?token=[A-Za-z0-9_%-]+/.exec(mails[0]!.text)?.[0];
    expect(link, mails[0]!.text).to.be.a('string');
    const token = new URL(link!).searchParams.get('token')!;
    expect(mails[0]!.html).to.include(token);

    const used = await h.post('/portal/unlock', undefined, { token });
    expect(used.status).to.equal(200);
    expect(await h.isLocked(jane)).to.equal(false);
    expect((await h.portalLogin('jane.doe@example.com', PORTAL_PASSWORD)).status).to.equal(200);
    expect((await h.post('/portal/unlock', undefined, { token })).status).to.equal(400);
  });
});
