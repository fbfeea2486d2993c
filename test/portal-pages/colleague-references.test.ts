/**
 * A colleague's ticket in a customer's company scope names its contact: Jane (Acme Ltd) sees Tom's
 * ticket (tickets in account scope) while her Contacts scope is her own record. The access layer
 * names Tom by the Contacts name fields the profile leaves readable, not as a record Jane may open:
 * plain text on the list and the record page (no link, which would lead to a 404), the same label in
 * the API with `opens: false`, and in the list's CSV. A contact field hidden on tickets shows
 * nothing; a hidden Contacts name field leaves the colleague unnamed ("Not shown to you").
 */
import { expect } from 'chai';
import type { CrmRecord } from '../../plugin/host-contract/index.js';
import { apiClient, portalLogin, TOM } from '../portal-api/api-test-kit.js';
import type { PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { changeDefaultModule, JANE, signedIn } from './portal-pages-kit.js';

describe('portal pages: a colleague named on a record in the customer’s scope @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let tom: CrmRecord;
  let ticketId: number;

  const contact = async (email: string) => (await test.host.api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email }, limit: 1 })).rows[0]!;
  const contactRow = (html: string) => /<div class="bp-field-row" data-field="contact_id">\s*<dt>[^<]*<\/dt>\s*<dd[^>]*>([\s\S]*?)<\/dd>/.exec(html)?.[1]?.trim() ?? null;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    // Tickets of the company; contacts: her own record only (she may open it, not Tom's).
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, shown: true, view: true, scope: 'account' }));
    await changeDefaultModule(test, 'Contacts', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact' }));
    tom = await contact(TOM);
    const janeContact = await contact(JANE);
    expect(tom.values.account_id, 'Tom works at Jane’s company').to.equal(janeContact.values.account_id);
    ticketId = (await test.host.api.records.create('HelpDesk', { values: { ticket_title: 'Tom’s printer', status: 'Open', priority: 'Normal', contact_id: tom.id, account_id: tom.values.account_id } })).id;
    jane = await signedIn(test, JANE);
  });
  after(async () => {
    await test?.stop();
  });

  const tomName = () => `${String(tom.values.firstname)} ${String(tom.values.lastname)}`;

  it('shows the colleague’s name, without a link, on the record page and in the list', async () => {
    const { response, html } = await jane.get(`/m/HelpDesk/${ticketId}`);
    expect(response.status).to.equal(200);
    expect(contactRow(html)).to.equal(tomName());
    expect(html).not.to.include(`/portal/m/Contacts/${tom.id}`);

    const list = await jane.get(`/m/HelpDesk?q=${encodeURIComponent('Tom’s printer')}`);
    const row = new RegExp(`<tr[^>]*>(?:(?!</tr>)[\\s\\S])*?/portal/m/HelpDesk/${ticketId}[\\s\\S]*?</tr>`).exec(list.html)?.[0] ?? '';
    expect(row, 'the ticket’s row').to.include(tomName());
    expect(row).not.to.include('Not shown to you');
    expect(row).not.to.include(`/portal/m/Contacts/${tom.id}`);
  });

  it('answers the same name in the API, saying the customer cannot open the record', async () => {
    const api = apiClient(test, await portalLogin(test, JANE));
    const record = await api.get(`/modules/HelpDesk/records/${ticketId}`);
    expect(record.status).to.equal(200);
    expect(record.body.references.contact_id).to.deep.equal({ id: tom.id, module: 'Contacts', label: tomName(), opens: false });
    const own = await api.get(`/modules/Contacts/records/${(await contact(JANE)).id}`);
    expect(own.status).to.equal(200);
    // Jane's own record is hers to open: the list's row for a ticket of hers says so.
    const list = await api.get(`/modules/HelpDesk/records?search=${encodeURIComponent('Tom’s printer')}`);
    expect(list.status).to.equal(200);
    const row = (list.body.rows as { id: number; references: Record<string, unknown> }[]).find((r) => r.id === ticketId);
    expect(row?.references.contact_id).to.deep.equal({ id: tom.id, module: 'Contacts', label: tomName(), opens: false });
    // The colleague's record itself stays out of reach.
    expect((await api.get(`/modules/Contacts/records/${tom.id}`)).status).to.equal(404);
  });

  it('names the colleague, as text, where the profile does not show Contacts at all', async () => {
    await changeDefaultModule(test, 'Contacts', (entry) => ({ ...entry, shown: false, view: false }));
    try {
      const { html } = await jane.get(`/m/HelpDesk/${ticketId}`);
      expect(contactRow(html)).to.equal(tomName());
      const api = apiClient(test, await portalLogin(test, JANE));
      expect((await api.get(`/modules/HelpDesk/records/${ticketId}`)).body.references.contact_id).to.deep.equal({ id: tom.id, module: 'Contacts', label: tomName(), opens: false });
    } finally {
      await changeDefaultModule(test, 'Contacts', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact' }));
    }
  });

  it('names nobody when the profile hides the Contacts name field, and shows nothing when it hides the ticket’s contact', async () => {
    await changeDefaultModule(test, 'Contacts', (entry) => ({ ...entry, fields: { ...entry.fields, lastname: 'hidden' } }));
    try {
      const { html } = await jane.get(`/m/HelpDesk/${ticketId}`);
      expect(contactRow(html)).to.equal('<span class="bp-muted">Not shown to you</span>');
      expect(html).not.to.include(String(tom.values.lastname));
    } finally {
      await changeDefaultModule(test, 'Contacts', (entry) => ({ ...entry, fields: { ...entry.fields, lastname: 'readwrite' } }));
    }
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, contact_id: 'hidden' } }));
    try {
      const { html } = await jane.get(`/m/HelpDesk/${ticketId}`);
      expect(contactRow(html)).to.equal(null);
      expect(html).not.to.include(tomName());
    } finally {
      await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, contact_id: 'readonly' } }));
    }
  });
});
