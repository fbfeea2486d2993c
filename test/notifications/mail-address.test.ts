/**
 * The one address rule of the plugin's mails (two-factor codes, password recovery, the contact's
 * access mail, notifications to contacts and owners): what the host's mailer would send to.
 */
import { expect } from 'chai';
import type { CrmRecord, FieldValue } from '../../plugin/host-contract/index.js';
import { mailableEmail } from '../../plugin/contacts/portal-user-settings.js';
import { isMailAddress } from '../../plugin/notifications/portal-mailer.js';

describe('portal mail addresses', function () {
  it('accepts plain addresses, with or without a dot in the domain', function () {
    for (const address of ['jane.doe@example.com', 'support+it@crm.example.co.uk', 'ops@intranet', `${'a'.repeat(64)}@${'b'.repeat(185)}.com`]) {
      expect(isMailAddress(address), address).to.equal(true);
    }
  });

  it('refuses what would change a mail header or name a second recipient', function () {
    for (const address of ['', 'jane', '@example.com', 'jane@', 'jane@@example.com', 'a@b@c.d', 'jane doe@example.com', ' jane@example.com', 'Jane <jane@example.com>', 'jane@example.com, eve@evil.test', 'jane@example.com;eve@evil.test', 'jane@example.com\r\nBcc: eve@evil.test', '"jane"@example.com', 'jane@[127.0.0.1]', `${'a'.repeat(64)}@${'b'.repeat(186)}.com`]) {
      expect(isMailAddress(address), JSON.stringify(address)).to.equal(false);
    }
  });

  it("reads a contact's email as the mailer would send to it: trimmed, lower-cased, else none", function () {
    const contact = (email: FieldValue): CrmRecord => ({ id: 1, module: 'Contacts', values: { email }, owner: null, createdAt: '2026-12-03T00:00:00.000Z', modifiedAt: '2026-12-03T00:00:00.000Z', version: 1 });
    expect(mailableEmail(contact('  Jane.Doe@Example.COM '))).to.equal('jane.doe@example.com');
    expect(mailableEmail(contact('ops@intranet'))).to.equal('ops@intranet');
    expect(mailableEmail(contact('jane@example.com, eve@evil.test'))).to.equal(null);
    expect(mailableEmail(contact(''))).to.equal(null);
    expect(mailableEmail(contact(null))).to.equal(null);
  });
});
