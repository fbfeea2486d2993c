/**
 * What a refused value should have been, said to whoever sent it: a form's text boxes carry their
 * field's length (`maxlength`), and a value past it, an email address without a dot in its domain
 * (which the browser's email box takes) or a web address of another scheme (which its URL box
 * takes) comes back with a message that names what is wanted, in the customer's language; the
 * API's problems do the same for every field type and for a comment. Nothing is stored.
 */
import { expect } from 'chai';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, MARIO, openCustomModule, signedIn } from './portal-pages-kit.js';

describe('portal forms and API: what a refused value should have been @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let mario: PortalClient;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    await openCustomModule(
      test,
      {
        name: 'Sites',
        label: { en: 'Sites', it: 'Sedi' },
        singularLabel: { en: 'Site', it: 'Sede' },
        labelField: 'site_name',
        fields: [
          { name: 'site_name', label: { en: 'Site', it: 'Sede' }, type: 'text', mandatory: true, maxLength: 20 },
          { name: 'site_email', label: { en: 'Site email', it: 'Email della sede' }, type: 'email', mandatory: false },
          { name: 'site_url', label: { en: 'Web page', it: 'Pagina web' }, type: 'url', mandatory: false },
          { name: 'notes', label: { en: 'Notes', it: 'Note' }, type: 'textarea', mandatory: false },
          { name: 'desks', label: { en: 'Desks', it: 'Scrivanie' }, type: 'integer', mandatory: false },
          { name: 'opened_on', label: { en: 'Opened on', it: 'Aperta il' }, type: 'date', mandatory: false },
          { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
        ],
      },
      { site_name: 'readwrite', site_email: 'readwrite', site_url: 'readwrite', notes: 'readwrite', desks: 'readwrite', opened_on: 'readwrite', contact_id: 'readonly' },
      ['site_name'],
    );
    jane = await signedIn(test, JANE);
    mario = await signedIn(test, MARIO, 'it');
  });
  after(async () => {
    await test?.stop();
  });

  const sites = async () => (await test.host.api.records.query('Sites', { limit: 100 })).rows;
  const input = (html: string, field: string) => new RegExp(`<(?:input|textarea) id="bp-field-${field}"[^>]*>`).exec(html)?.[0] ?? '';
  const fieldError = (html: string, field: string) => new RegExp(`<p class="bp-field-error" id="bp-field-${field}-error">([^<]*)</p>`).exec(html)?.[1];

  it('gives each text box of a form its field’s length, and none to boxes of numbers and dates', async () => {
    const { html } = await jane.get('/m/Sites/new');
    expect(input(html, 'site_name')).to.include('maxlength="20"');
    expect(input(html, 'site_email')).to.include('maxlength="255"');
    expect(input(html, 'site_url')).to.include('maxlength="255"');
    expect(input(html, 'notes')).to.include('maxlength="65535"');
    expect(input(html, 'desks')).to.match(/type="number"/).and.not.to.include('maxlength');
    expect(input(html, 'opened_on')).to.match(/type="date"/).and.not.to.include('maxlength');
  });

  it('says on the form what a value sent past the browser’s checks should have been, in the customer’s language, and stores nothing it refused', async () => {
    const send = async (client: PortalClient, values: Record<string, string>) => {
      const form = await client.get('/m/Sites/new');
      return client.post('/m/Sites/new', { _csrf: tokenIn(form.html), site_name: 'Depot', site_email: '', site_url: '', notes: '', desks: '', opened_on: '', ...values });
    };
    const long = await send(jane, { site_name: 'x'.repeat(21) });
    expect(long.response.status).to.equal(422);
    expect(fieldError(long.html, 'site_name')).to.equal('At most 20 characters.');
    expect(input(long.html, 'site_name')).to.include('aria-invalid="true"');
    // Twenty characters are twenty code points, an emoji one of them (as the column counts them).
    expect((await send(jane, { site_name: '🏭'.repeat(20) })).response.status).to.equal(303);
    const email = await send(jane, { site_email: 'depot@example' });
    expect(fieldError(email.html, 'site_email')).to.equal('Enter an email address, such as name@example.com.');
    const url = await send(jane, { site_url: 'ftp://example.com/depot' });
    expect(fieldError(url.html, 'site_url')).to.equal('Enter a web address that starts with http:// or https://.');
    const notes = await send(jane, { notes: 'n'.repeat(65536) });
    expect(fieldError(notes.html, 'notes')).to.equal('At most 65,535 characters.');
    // A line break is one character in the box (its maxlength) and two in what the form sends (CR LF): it counts as one.
    const lines = `${'n'.repeat(65_000)}${'\r\nn'.repeat(267)}`;
    expect((await send(jane, { site_name: 'Lines', notes: lines })).response.status).to.equal(303);
    expect((await sites()).find((r) => r.values.site_name === 'Lines')?.values.notes).to.equal(lines);
    // The browser's own boxes: the usual message.
    expect(fieldError((await send(jane, { desks: '4.5' })).html, 'desks')).to.equal('This value is not valid.');

    const italian = await send(mario, { site_name: 'x'.repeat(21), site_email: 'sede@esempio', notes: 'n'.repeat(65536) });
    expect(italian.response.status).to.equal(422);
    expect(fieldError(italian.html, 'site_name')).to.equal('Al massimo 20 caratteri.');
    expect(fieldError(italian.html, 'site_email')).to.equal('Inserisci un indirizzo email, per esempio nome@esempio.it.');
    expect(fieldError(italian.html, 'notes')).to.equal('Al massimo 65.535 caratteri.');
    expect((await sites()).map((r) => r.values.site_name).sort()).to.deep.equal(['Lines', '🏭'.repeat(20)]);
  });

  it('names in the API’s problems the most characters and the form each field type takes, and the fields give the lengths', async () => {
    const api = (client: PortalClient, method: string, path: string, body?: unknown, language = 'en') =>
      fetch(`${test.url}/portal/api/v1${path}`, {
        method,
        headers: { cookie: client.cookieHeader(), 'content-type': 'application/json', 'accept-language': language },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
    const fields = await api(jane, 'GET', '/modules/Sites/fields');
    const lengths = Object.fromEntries(fields.body.fields.map((f: { name: string; maxLength?: number }) => [f.name, f.maxLength]));
    expect(lengths).to.deep.equal({ site_name: 20, site_email: 255, site_url: 255, notes: 65535, desks: undefined, opened_on: undefined, contact_id: undefined });

    const before = (await sites()).length;
    const refused = await api(jane, 'POST', '/modules/Sites/records', {
      values: { site_name: 'x'.repeat(21), site_email: 'depot@example', site_url: 'javascript:alert(1)', notes: 'bell \u0007', desks: '4.5', opened_on: '2026-02-30' },
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.error.problems).to.have.deep.members([
      { field: 'values.site_name', code: 'invalid-value', message: 'At most 20 characters.' },
      { field: 'values.site_email', code: 'invalid-value', message: 'An email address, such as name@example.com.' },
      { field: 'values.site_url', code: 'invalid-value', message: 'A web address that starts with http:// or https://.' },
      { field: 'values.notes', code: 'invalid-value', message: 'Text without control characters (line breaks and tabs are kept).' },
      { field: 'values.desks', code: 'invalid-value', message: 'A whole number of at most 15 digits, such as 42.' },
      { field: 'values.opened_on', code: 'invalid-value', message: 'A date written YYYY-MM-DD, such as 2026-10-25.' },
    ]);
    const italian = await api(mario, 'POST', '/modules/Sites/records', { values: { site_name: 'x'.repeat(21), desks: 'many' } }, 'it');
    expect(italian.body.error.problems).to.have.deep.members([
      { field: 'values.site_name', code: 'invalid-value', message: 'Al massimo 20 caratteri.' },
      { field: 'values.desks', code: 'invalid-value', message: 'Un numero intero di al massimo 15 cifre, per esempio 42.' },
    ]);
    expect((await sites()).length).to.equal(before);

    // A comment past its length, by the schema (JSON) and by the access layer alike.
    const ticket = (await api(jane, 'GET', '/modules/HelpDesk/records')).body.rows[0].id as number;
    const comments = await test.host.api.records.commentCount('HelpDesk', ticket, { includeInternal: true });
    const comment = await api(jane, 'POST', `/modules/HelpDesk/records/${ticket}/comments`, { body: 'c'.repeat(10_001) });
    expect(comment.status).to.equal(422);
    expect(comment.body.error.problems).to.deep.equal([{ field: 'body', code: 'invalid-value', message: 'At most 10,000 characters.' }]);
    const marios = (await api(mario, 'GET', '/modules/HelpDesk/records')).body.rows[0].id as number;
    const commentIt = await api(mario, 'POST', `/modules/HelpDesk/records/${marios}/comments`, { body: 'c'.repeat(10_001) }, 'it');
    expect(commentIt.status).to.equal(422);
    expect(commentIt.body.error.problems[0].message).to.equal('Al massimo 10.000 caratteri.');
    expect(await test.host.api.records.commentCount('HelpDesk', ticket, { includeInternal: true })).to.equal(comments);
  });
});
