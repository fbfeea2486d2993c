/**
 * Issue 5, Conditionals: a profile rule "Account Status = Blocked → the whole record is read-only"
 * holds on the server, through the page and through the API, while an account that is not
 * blocked stays editable; the customer cannot escape the rule by changing the status in the
 * same save.
 */
import { expect } from 'chai';
import { tokenIn } from '../sign-in/sign-in-fixture.js';
import { signedIn as pageSignedIn } from '../portal-pages/portal-pages-kit.js';
import type { TestHost } from '../support/host.js';
import { JANE, changeModule, defaultProfile, idsWhere, signedIn, startApiHost } from './api-test-kit.js';

describe('portal conditionals: a blocked account is read-only @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let acme: number;

  before(async () => {
    t = await startApiHost();
    const api = t.host.api;
    acme = (await idsWhere(api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
    await changeModule(api, 'Accounts', (entry) => ({ ...entry, shown: true, view: true, edit: true, fields: { ...entry.fields, status: 'readwrite', city: 'readwrite' } }));
    const profile = await defaultProfile(api);
    await profile.save('rules', [
      ...profile.document.rules,
      { name: 'Blocked accounts', module: 'Accounts', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Blocked' }], effects: [], allReadOnly: true },
    ]);
    await api.records.update('Accounts', acme, { values: { status: 'Active', city: 'London' } });
  });

  after(async () => t?.stop());

  it('an active account is editable; once blocked, the API refuses every change and the record says it is not editable', async () => {
    const jane = await signedIn(t, JANE);
    const active = await jane.send('PATCH', `/modules/Accounts/records/${acme}`, { values: { city: 'Leeds' } });
    expect(active.status, active.text).to.equal(200);
    expect(active.body.editable).to.equal(true);

    await t.host.api.records.update('Accounts', acme, { values: { status: 'Blocked' } });
    const record = await jane.get(`/modules/Accounts/records/${acme}`);
    expect(record.body.editable).to.equal(false);
    for (const values of [{ city: 'York' }, { status: 'Active' }, { status: 'Active', city: 'York' }]) {
      const refused = await jane.send('PATCH', `/modules/Accounts/records/${acme}`, { values });
      expect(refused.status, JSON.stringify(values)).to.equal(403);
      expect(refused.body.error.code).to.equal('not_allowed');
    }
    const stored = await t.host.api.records.get('Accounts', acme);
    expect(stored!.values).to.include({ status: 'Blocked', city: 'Leeds' });
  });

  it('the page shows no edit form for the blocked account and its POST changes nothing', async () => {
    const client = await pageSignedIn(t, JANE);
    const view = await client.get(`/m/Accounts/${acme}`);
    expect(view.response.status).to.equal(200);
    expect(view.html).not.to.include(`/m/Accounts/${acme}/edit"`);
    const form = await client.get(`/m/Accounts/${acme}/edit`);
    expect(form.response.status).to.equal(403);
    // A hand-made post with a valid token (from the record page) is refused as well.
    const version = String((await t.host.api.records.get('Accounts', acme))!.version);
    const posted = await client.post(`/m/Accounts/${acme}/edit`, { _csrf: tokenIn(view.html), city: 'Bath', status: 'Active', version });
    expect(posted.response.status).to.equal(403);
    const stored = await t.host.api.records.get('Accounts', acme);
    expect(stored!.values).to.include({ status: 'Blocked', city: 'Leeds' });
  });

  it('a form that sends a field unchanged saves the status that makes it read-only; changing both at once is still refused', async () => {
    const api = t.host.api;
    const profile = await defaultProfile(api);
    const rules = profile.document.rules;
    await profile.save('rules', [
      ...rules,
      { name: 'Prospects keep their city', module: 'Accounts', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Prospect' }], effects: [{ field: 'city', effect: 'readonly' }], allReadOnly: false },
    ]);
    try {
      await api.records.update('Accounts', acme, { values: { status: 'Active', city: 'Leeds' } });
      const client = await pageSignedIn(t, JANE);
      const form = await client.get(`/m/Accounts/${acme}/edit`);
      expect(form.response.status).to.equal(200);
      const version = /name="version" value="(\d+)"/.exec(form.html)![1]!;
      // The edit form sends every field it offers, the city as it was.
      const changed = await client.post(`/m/Accounts/${acme}/edit`, { _csrf: tokenIn(form.html), version, accountname: 'Acme Ltd', status: 'Prospect', city: 'Leeds' });
      expect(changed.response.status, changed.html).to.equal(303);
      expect((await api.records.get('Accounts', acme))!.values).to.include({ status: 'Prospect', city: 'Leeds' });

      await api.records.update('Accounts', acme, { values: { status: 'Active' } });
      const jane = await signedIn(t, JANE);
      const both = await jane.send('PATCH', `/modules/Accounts/records/${acme}`, { values: { status: 'Prospect', city: 'York' } });
      expect(both.status, both.text).to.equal(422);
      expect(both.body.error.problems).to.deep.include({ field: 'values.city', code: 'not-writable', message: 'This field cannot be changed.' });
      expect((await api.records.get('Accounts', acme))!.values).to.include({ status: 'Active', city: 'Leeds' });
    } finally {
      await profile.save('rules', rules);
      await api.records.update('Accounts', acme, { values: { status: 'Blocked', city: 'Leeds' } });
    }
  });
});
