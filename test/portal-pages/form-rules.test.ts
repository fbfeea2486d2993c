/**
 * Conditional rules on a page's form: the form a refused post sends back shows each field as the
 * rules leave it for the values typed, a checkbox left unchecked included.
 */
import { expect } from 'chai';
import { tokenIn } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, signedIn } from './portal-pages-kit.js';
import { defaultProfile } from '../portal-api/api-test-kit.js';

describe('portal pages: conditional rules on a form @db', function () {
  this.timeout(120_000);
  let test: TestHost;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
  });
  after(async () => {
    await test?.stop();
  });

  it('judges a checkbox left unchecked as unchecked when a refused new record’s form comes back', async () => {
    const api = test.host.api;
    await api.modules.addField('HelpDesk', { name: 'onsite', label: { en: 'On site' }, type: 'boolean', mandatory: false });
    const profile = await defaultProfile(api);
    await profile.save('rules', [
      ...profile.document.rules,
      { name: 'On site visits need no severity', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'onsite', op: 'eq', value: true }], effects: [{ field: 'severity', effect: 'hidden' }], allReadOnly: false },
    ]);
    const jane = await signedIn(test, JANE);
    const form = await jane.get('/m/HelpDesk/new');
    expect(form.html).to.include('name="severity"').and.include('name="onsite"');
    // No title: refused, and sent back with what was typed; the box was left unchecked.
    const refused = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: '', severity: 'Major', _booleans: 'onsite' });
    expect(refused.response.status).to.equal(422);
    expect(refused.html).to.include('name="severity"');
    const checked = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: '', onsite: 'on', _booleans: 'onsite' });
    expect(checked.response.status).to.equal(422);
    expect(checked.html).not.to.include('name="severity"');
  });

  it('creates a record whose values make a field read-only or hidden when the form sends that field empty', async () => {
    const api = test.host.api;
    const profile = await defaultProfile(api);
    await profile.save('rules', [
      ...profile.document.rules,
      { name: 'Urgent tickets are triaged by support', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'priority', op: 'eq', value: 'Urgent' }], effects: [{ field: 'category', effect: 'readonly' }, { field: 'severity', effect: 'hidden' }], allReadOnly: false },
    ]);
    const jane = await signedIn(test, JANE);
    const form = await jane.get('/m/HelpDesk/new');
    // The form sends every field it offers, those left empty too, as a browser does.
    const record = /<form[^>]*action="\/portal\/m\/HelpDesk\/new"[\s\S]*?<\/form>/.exec(form.html)![0];
    const names = [...new Set([...record.matchAll(/<(?:input|select|textarea)[^>]*\sname="([a-z][a-z0-9_]*)"/g)].map((m) => m[1]!))];
    expect(names).to.include.members(['ticket_title', 'priority', 'severity', 'category']);
    const fields: Record<string, string> = Object.fromEntries(names.map((name) => [name, '']));
    const booleans = /name="_booleans" value="([^"]*)"/.exec(form.html)?.[1];
    const posted = await jane.post('/m/HelpDesk/new', { ...fields, ...(booleans ? { _booleans: booleans } : {}), _csrf: tokenIn(form.html), ticket_title: 'Urgent and empty', priority: 'Urgent' });
    expect(posted.response.status, posted.html).to.equal(303);
    const created = (await api.records.query('HelpDesk', { where: { field: 'ticket_title', op: 'eq', value: 'Urgent and empty' }, limit: 1 })).rows[0];
    expect(created?.values).to.include({ priority: 'Urgent', category: null, severity: null });
    // A value typed there is still refused.
    const typed = await jane.post('/m/HelpDesk/new', { ...fields, _csrf: tokenIn(form.html), ticket_title: 'Urgent and typed', priority: 'Urgent', category: 'Other' });
    expect(typed.response.status).to.equal(422);
  });
});
