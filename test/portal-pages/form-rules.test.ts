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
});
