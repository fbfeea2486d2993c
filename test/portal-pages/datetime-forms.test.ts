/**
 * A record's datetime on the portal's forms is the time its page shows, in the CRM's time zone
 * (Rome here): the edit box holds it, what is typed is read in it, a time the clocks skip is
 * refused, one they repeat is the first, and a form saved unchanged keeps the stored instant to
 * the millisecond. The JSON API keeps taking instants (no offset: UTC).
 */
import { expect } from 'chai';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { boxValue, JANE, signedIn, visitsModule } from './portal-pages-kit.js';

describe('portal record forms: datetimes in the CRM’s time zone', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let janeId: number;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', timeZone: 'Europe/Rome' });
    janeId = await visitsModule(test);
    jane = await signedIn(test, JANE);
  });
  after(async () => {
    await test?.stop();
  });

  const visit = async (visitedAt: string | null): Promise<number> =>
    (await test.host.api.records.create('Visits', { values: { visit_no: `V-${Math.random().toString(36).slice(2, 8)}`, visited_at: visitedAt, visit_day: '2026-03-01', contact_id: janeId } })).id;
  const stored = async (id: number) => (await test.host.api.records.get('Visits', id))!;

  /** Posts the edit form as the page gave it, with `changes` typed over it. */
  async function saveForm(id: number, changes: Record<string, string> = {}): Promise<{ response: Response; html: string }> {
    const form = await jane.get(`/m/Visits/${id}/edit`);
    expect(form.response.status).to.equal(200);
    const fields: Record<string, string> = { _csrf: tokenIn(form.html), version: /name="version" value="(\d+)"/.exec(form.html)![1]! };
    for (const name of ['visit_no', 'visited_at', 'visit_day']) fields[name] = boxValue(form.html, name) ?? '';
    return jane.post(`/m/Visits/${id}/edit`, { ...fields, ...changes });
  }

  it('holds in the edit box the time the record page shows, and names the zone next to it', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    const page = await jane.get(`/m/Visits/${id}`);
    expect(page.html).to.match(/data-field="visited_at">\s*<dt>Visited at<\/dt>\s*<dd>Mar 1, 2026, 10:00\sAM<\/dd>/);
    const { html } = await jane.get(`/m/Visits/${id}/edit`);
    expect(boxValue(html, 'visited_at')).to.equal('2026-03-01T10:00');
    const input = /<input id="bp-field-visited_at"[^>]*>/.exec(html)![0];
    expect(input).to.include('aria-describedby="bp-field-visited_at-zone"');
    expect(html).to.include('<p class="bp-hint" id="bp-field-visited_at-zone">Time zone: Central European Time (Europe/Rome)</p>');
    const italian = await signedIn(test, JANE, 'it');
    await italian.post('/language', { _csrf: tokenIn((await italian.get(`/m/Visits/${id}/edit`)).html), language: 'it', returnTo: `/m/Visits/${id}/edit` });
    expect((await italian.get(`/m/Visits/${id}/edit`)).html).to.match(/id="bp-field-visited_at-zone">Fuso orario: Ora dell’Europa centrale \(Europe\/Rome\)</);
  });

  it('reads what is typed in the box as the CRM’s time, winter and summer, on the edit and the new form', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    const winter = await saveForm(id, { visited_at: '2026-03-01T11:15' });
    expect(winter.response.status).to.equal(303);
    expect((await stored(id)).values.visited_at).to.equal('2026-03-01T10:15:00.000Z');
    await saveForm(id, { visited_at: '2026-07-01T11:15:20' });
    expect((await stored(id)).values.visited_at).to.equal('2026-07-01T09:15:20.000Z');

    const form = await jane.get('/m/Visits/new');
    expect(form.html).to.include('id="bp-field-visited_at-zone"');
    const created = await jane.post('/m/Visits/new', { _csrf: tokenIn(form.html), visit_no: 'V-new', visited_at: '2026-12-24T18:30', visit_day: '2026-12-24' });
    expect(created.response.status).to.equal(303);
    const newId = Number(/\/m\/Visits\/(\d+)/.exec(created.response.headers.get('location')!)![1]);
    expect((await stored(newId)).values).to.include({ visited_at: '2026-12-24T17:30:00.000Z', visit_day: '2026-12-24' });
  });

  it('saves a form sent unchanged to the identical stored instant: seconds, milliseconds, either 02:30 of October', async () => {
    for (const instant of ['2026-03-01T09:00:30.000Z', '2026-03-01T09:00:30.123Z', '2026-03-01T09:00:00.456Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T01:30:59.999Z']) {
      const id = await visit(instant);
      const saved = await saveForm(id);
      expect(saved.response.status, instant).to.equal(303);
      expect((await stored(id)).values.visited_at, instant).to.equal(instant);
      // And again, from the form as it is now.
      await saveForm(id, { visit_no: 'changed beside it' });
      expect((await stored(id)).values).to.include({ visited_at: instant, visit_no: 'changed beside it' });
    }
  });

  it('refuses the 02:30 the clocks skip on the last Sunday of March, says why, keeps what was typed and changes nothing', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    const before = await stored(id);
    const refused = await saveForm(id, { visited_at: '2026-03-29T02:30', visit_no: 'not saved' });
    expect(refused.response.status).to.equal(422);
    expect(refused.html).to.include('id="bp-field-visited_at-error"');
    expect(refused.html).to.match(/<p class="bp-field-error" id="bp-field-visited_at-error">This time does not exist in Central European Time \(Europe\/Rome\): the clocks go forward that night and skip it\. Choose a later time\.</);
    expect(boxValue(refused.html, 'visited_at')).to.equal('2026-03-29T02:30');
    expect(boxValue(refused.html, 'visit_no')).to.equal('not saved');
    const after = await stored(id);
    expect(after.values).to.deep.equal(before.values);
    expect(after.version).to.equal(before.version);
    // The new form too: nothing is created.
    const form = await jane.get('/m/Visits/new');
    const count = await test.host.api.records.count('Visits');
    const onCreate = await jane.post('/m/Visits/new', { _csrf: tokenIn(form.html), visit_no: 'V-skipped', visited_at: '2026-03-29T02:00' });
    expect(onCreate.response.status).to.equal(422);
    expect(await test.host.api.records.count('Visits')).to.equal(count);
  });

  it('reads the 02:30 the clocks repeat on the last Sunday of October as the first (summer time)', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    await saveForm(id, { visited_at: '2026-10-25T02:30' });
    expect((await stored(id)).values.visited_at).to.equal('2026-10-25T00:30:00.000Z');
  });

  it('refuses a box that holds no time with the usual message, never a 500', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    for (const typed of ['2026-02-30T10:00', 'tomorrow', '2026-03-01T25:00']) {
      const refused = await saveForm(id, { visited_at: typed });
      expect(refused.response.status, typed).to.equal(422);
      expect(refused.html, typed).to.include('This value is not valid.');
    }
    expect((await stored(id)).values.visited_at).to.equal('2026-03-01T09:00:00.000Z');
  });

  it('leaves the JSON API as it was: instants, and UTC when no offset is sent', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    const record = await fetch(`${test.url}/portal/api/v1/modules/Visits/records/${id}`, { headers: { cookie: jane.cookieHeader() } });
    const body = (await record.json()) as { values: Record<string, unknown>; version: number };
    expect(body.values.visited_at).to.equal('2026-03-01T09:00:00.000Z');
    const changed = await fetch(`${test.url}/portal/api/v1/modules/Visits/records/${id}`, {
      method: 'PATCH',
      headers: { cookie: jane.cookieHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ values: { visited_at: '2026-03-01T10:00' }, version: body.version }),
    });
    expect(changed.status).to.equal(200);
    expect((await stored(id)).values.visited_at).to.equal('2026-03-01T10:00:00.000Z');
  });
});
