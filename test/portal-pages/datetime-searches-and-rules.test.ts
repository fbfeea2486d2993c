/**
 * Every place a datetime typed by hand is read, read in the CRM's time zone (the one the pages
 * show times in), never as UTC, whatever the server's own zone: the rules a refused new record's
 * form is judged by, a list's column search (pages: the CRM's wall clock; the API: an offset or `Z`
 * required) and the values of conditional rules an admin types on the privileges page. In a zone
 * that changes its clocks (Rome, around the last Sunday of October and of March) and one far from
 * UTC (Honolulu, UTC-10), each with the other as the server's zone.
 */
import { expect } from 'chai';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ConditionalRule } from '../../plugin/profiles/profile-document.js';
import { ProfileValidationError } from '../../plugin/profiles/profile-errors.js';
import { defaultProfile } from '../portal-api/api-test-kit.js';
import { adminClient, SETTINGS } from '../profiles/profile-test-kit.js';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, recordIdsIn, signedIn, visitsModule } from './portal-pages-kit.js';

interface Zone {
  readonly crm: string;
  readonly server: string;
  /** A new record's typed time, a rule's bound between its UTC reading and its reading in the CRM's zone, and whether the rule hides a field (read right). */
  readonly form: { readonly typed: string; readonly bound: string; readonly hidden: boolean };
  /** Stored times; `wall` is what the list shows for the first `shown` of them, and `decoy` is `wall` read as UTC. */
  readonly search: { readonly wall: string; readonly shown: readonly string[]; readonly decoy: string; readonly withOffset: string };
  /** A rule's value typed as the CRM's clock reads it, the instant it names, a record before it that UTC would put after it, and one after it. */
  readonly rule: { readonly typed: string; readonly instant: string; readonly before: string; readonly after: string };
  /** A day a rule names, and the stored times just before it begins, at its first and last minute, and when it has ended. */
  readonly day: { readonly typed: string; readonly before: string; readonly first: string; readonly last: string; readonly after: string };
}

const ZONES: readonly Zone[] = [
  {
    crm: 'Europe/Rome',
    server: 'Pacific/Honolulu',
    // 02:30 on the night the clocks go back is 00:30 UTC (the first, summer time): before a rule's 01:00 UTC.
    form: { typed: '2026-10-25T02:30', bound: '2026-10-25T01:00:00.000Z', hidden: false },
    // Both 02:30s of that night read 02:30 on the list (one with seconds); 02:30 UTC reads 03:30.
    search: { wall: '2026-10-25T02:30', shown: ['2026-10-25T00:30:20.000Z', '2026-10-25T01:30:00.000Z'], decoy: '2026-10-25T02:30:00.000Z', withOffset: '2026-10-25T02:30+02:00' },
    // 02:00 of the second reading (01:00 UTC) comes after the first 02:30 (00:30 UTC), though its text is less.
    rule: { typed: '2026-10-25T02:30', instant: '2026-10-25T00:30:00.000Z', before: '2026-10-25T00:15:00.000Z', after: '2026-10-25T01:00:00.000Z' },
    // The night the clocks go back: a day of 25 hours, 24 October 22:00 UTC to 25 October 23:00 UTC.
    day: { typed: '2026-10-25', before: '2026-10-24T21:59:00.000Z', first: '2026-10-24T22:00:00.000Z', last: '2026-10-25T22:59:00.000Z', after: '2026-10-25T23:00:00.000Z' },
  },
  {
    crm: 'Pacific/Honolulu',
    server: 'Europe/Rome',
    // 10:00 in Honolulu is 20:00 UTC: after a rule's 15:00 UTC.
    form: { typed: '2026-03-01T10:00', bound: '2026-03-01T15:00:00.000Z', hidden: true },
    search: { wall: '2026-03-01T10:00', shown: ['2026-03-01T20:00:30.000Z'], decoy: '2026-03-01T10:00:00.000Z', withOffset: '2026-03-01T10:00-10:00' },
    rule: { typed: '2026-03-01T10:00', instant: '2026-03-01T20:00:00.000Z', before: '2026-03-01T15:00:00.000Z', after: '2026-03-01T20:30:00.000Z' },
    day: { typed: '2026-03-01', before: '2026-03-01T09:59:00.000Z', first: '2026-03-01T10:00:00.000Z', last: '2026-03-02T09:59:00.000Z', after: '2026-03-02T10:00:00.000Z' },
  },
];

for (const zone of ZONES) {
  describe(`datetimes typed by hand are the CRM’s wall clock (CRM ${zone.crm}, server ${zone.server}) @db`, function () {
    this.timeout(120_000);
    let test: TestHost;
    let api: HostApi;
    let jane: PortalClient;
    let janeId: number;
    let processZone: string | undefined;

    before(async () => {
      processZone = process.env.TZ;
      process.env.TZ = zone.server;
      test = await startTestHost({ demo: true, logLevel: 'error', timeZone: zone.crm });
      api = test.host.api;
      janeId = await visitsModule(test);
      jane = await signedIn(test, JANE);
    });
    after(async () => {
      await test?.stop();
      if (processZone === undefined) delete process.env.TZ;
      else process.env.TZ = processZone;
    });

    const visit = async (visitNo: string, visitedAt: string) => (await api.records.create('Visits', { values: { visit_no: visitNo, visited_at: visitedAt, contact_id: janeId } })).id;
    const setRules = async (rules: readonly Omit<ConditionalRule, 'origin'>[]) => {
      const profile = await defaultProfile(api);
      return profile.save('rules', rules.map((rule) => ({ ...rule, origin: { kind: 'portal' } })));
    };

    it('judges a refused new record’s rules on the instant the save would store', async () => {
      await setRules([{ name: 'Late visits need no day', module: 'Visits', conditions: [{ field: 'visited_at', op: 'gte', value: zone.form.bound }], effects: [{ field: 'visit_day', effect: 'hidden' }], allReadOnly: false }]);
      const form = await jane.get('/m/Visits/new');
      expect(form.html).to.include('name="visit_day"');
      // No visit number: refused, the form sent back as the rules leave it for what was typed.
      const refused = await jane.post('/m/Visits/new', { _csrf: tokenIn(form.html), visit_no: '', visited_at: zone.form.typed });
      expect(refused.response.status).to.equal(422);
      expect(refused.html.includes('name="visit_day"'), 'the day box after the refusal').to.equal(!zone.form.hidden);
      // The save stores the same instant, and the record shows the field as the refused form did.
      const created = await jane.post('/m/Visits/new', { _csrf: tokenIn(form.html), visit_no: `V-form-${zone.crm}`, visited_at: zone.form.typed });
      expect(created.response.status, created.html.slice(0, 300)).to.equal(303);
      const id = Number(/\/m\/Visits\/(\d+)/.exec(created.response.headers.get('location')!)![1]);
      const page = await jane.get(`/m/Visits/${id}`);
      expect(page.html.includes('data-field="visit_day"'), 'the day on the record').to.equal(!zone.form.hidden);
      await setRules([]);
      await api.records.delete('Visits', id);
    });

    it('finds by a list’s column what the list shows at the time searched, and the API asks for an offset', async () => {
      const shown = await Promise.all(zone.search.shown.map((time, i) => visit(`V-shown-${i}`, time)));
      const decoy = await visit('V-decoy', zone.search.decoy);
      const found = await jane.get(`/m/Visits?f_visited_at=${encodeURIComponent(zone.search.wall)}`);
      expect(found.response.status).to.equal(200);
      expect(recordIdsIn(found.html, 'Visits').sort()).to.deep.equal([...shown].sort());
      // The box keeps what was typed.
      expect(found.html).to.include(`value="${zone.search.wall}"`);
      // To the second: only a time of that second.
      expect(recordIdsIn((await jane.get(`/m/Visits?f_visited_at=${encodeURIComponent(`${zone.search.wall}:20`)}`)).html, 'Visits')).to.deep.equal(zone.crm === 'Europe/Rome' ? [shown[0]] : []);
      // The CSV export of that search: the same rows.
      const csv = await jane.get(`/m/Visits/export.csv?f_visited_at=${encodeURIComponent(zone.search.wall)}`);
      expect(csv.html.split('\n').filter((line) => line.includes('V-shown-')).length).to.equal(shown.length);
      expect(csv.html).not.to.include('V-decoy');

      const apiList = (filter: string) => fetch(`${test.url}/portal/api/v1/modules/Visits/records?filter[visited_at]=${encodeURIComponent(filter)}`, { headers: { cookie: jane.cookieHeader() } });
      const bare = await apiList(zone.search.wall);
      expect(bare.status).to.equal(400);
      const error = ((await bare.json()) as { error: { code: string; problems: { field: string; code: string; message: string }[] } }).error;
      expect(error.code).to.equal('invalid_input');
      expect(error.problems).to.have.length(1);
      expect(error.problems[0]).to.include({ field: 'filter[visited_at]', code: 'invalid-value' });
      expect(error.problems[0]!.message).to.include('2026-10-25T02:30+02:00').and.include('2026-10-25T00:30Z');
      const ids = async (filter: string) => {
        const answer = await apiList(filter);
        expect(answer.status, filter).to.equal(200);
        return ((await answer.json()) as { rows: { id: number }[] }).rows.map((row) => row.id).sort();
      };
      expect(await ids(zone.search.withOffset)).to.deep.equal([shown[0]]);
      expect(await ids(`${zone.search.decoy.slice(0, 16)}Z`)).to.deep.equal([decoy]);
      expect(await ids(zone.search.shown[0]!)).to.deep.equal([shown[0]]);
      expect(await ids(zone.search.shown[0]!.replace(/\.000Z$/, '.001Z'))).to.deep.equal([]);
      // A day still finds every time of it in the CRM's zone.
      expect(await ids(zone.search.wall.slice(0, 10))).to.include.members([...shown, decoy]);
      for (const id of [...shown, decoy]) await api.records.delete('Visits', id);
    });

    if (zone.crm === 'Europe/Rome') {
      it('finds nothing at a time the clocks skip, and says so for no time at all', async () => {
        const at = await visit('V-skip', '2026-03-29T01:30:00.000Z');
        const skipped = await jane.get(`/m/Visits?f_visited_at=${encodeURIComponent('2026-03-29T02:30')}`);
        expect(skipped.response.status).to.equal(200);
        expect(recordIdsIn(skipped.html, 'Visits')).to.deep.equal([]);
        expect(recordIdsIn((await jane.get(`/m/Visits?f_visited_at=${encodeURIComponent('2026-03-29T03:30')}`)).html, 'Visits')).to.deep.equal([at]);
        // No time of any calendar: the list says which column it could not search (as for a day).
        const nonsense = await jane.get(`/m/Visits?f_visited_at=${encodeURIComponent('2026-02-30T10:00')}`);
        expect(nonsense.response.status).to.equal(400);
        expect(nonsense.html).to.include('“Visited at”');
        // The message names both forms a datetime column takes: a day, and a day with its time (as the box keeps it).
        const problem = (html: string) => /id="bp-list-problem"[^>]*>([^<]*)</.exec(html)?.[1] ?? '';
        expect(problem(nonsense.html)).to.include('2026-11-30').and.include('2026-11-30T14:30').and.include('time');
        const italian = await signedIn(test, JANE, 'it');
        const language = async (code: string) => italian.post('/language', { _csrf: tokenIn((await italian.get('/m/Visits')).html), language: code, returnTo: '/m/Visits' });
        await language('it');
        const it = await italian.get(`/m/Visits?f_visited_at=${encodeURIComponent('25/10/2026 02:30')}`);
        await language('en');
        expect(it.response.status).to.equal(400);
        expect(problem(it.html)).to.include('“Visitato il”').and.include('2026-11-30T14:30').and.include('ora');
        // A date column takes a day only, and says so (no time in its example).
        const day = await jane.get(`/m/Visits?f_visit_day=${encodeURIComponent('2026-11-30T14:30')}`);
        expect(day.response.status).to.equal(400);
        expect(problem(day.html)).to.equal('“Visit day”: this is not a date, so that column was not searched. Type it as year-month-day, e.g. 2026-11-30.');
        await api.records.delete('Visits', at);
      });
    }

    it('reads a rule’s datetime value as the CRM’s clock, stores the instant, shows it back so and judges records by it', async () => {
      const document = await setRules([{ name: 'Early visits', module: 'Visits', conditions: [{ field: 'visited_at', op: 'lt', value: zone.rule.typed }], effects: [{ field: 'visit_day', effect: 'hidden' }], allReadOnly: false }]);
      expect(document.rules[0]!.conditions[0]!.value).to.equal(zone.rule.instant);
      const before = await visit('V-rule-before', zone.rule.before);
      const after = await visit('V-rule-after', zone.rule.after);
      expect((await jane.get(`/m/Visits/${before}`)).html).not.to.include('data-field="visit_day"');
      expect((await jane.get(`/m/Visits/${after}`)).html).to.include('data-field="visit_day"');

      const admin = await adminClient(test, 'admin', DEMO_ADMIN_PASSWORD);
      const page = await (await admin.get(`${SETTINGS}/profiles/${document.profile.id}/privileges`)).text();
      const condition = /Visited at [^<]*?(\d{4}-\d{2}-\d{2}T[\d:.]+Z?)\s*</.exec(page);
      expect(condition?.[1], 'the condition as the page shows it').to.equal(zone.rule.typed);
      // The rule's editor gets the time on the same clock, with its offset: the instant kept as it
      // is when the rule is saved unchanged (the repeated hour too), and no UTC time an admin would
      // take for a wrong one and "correct".
      const json = /data-bp-rule="([^"]*)"/.exec(page)?.[1]?.replaceAll('&quot;', '"').replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
      const edited = (JSON.parse(json!) as ConditionalRule).conditions[0]!.value as string;
      expect(edited, 'the value the rule editor gets').to.match(new RegExp(`^${zone.rule.typed}[+-]\\d{2}:\\d{2}$`));
      expect(new Date(edited).toISOString()).to.equal(zone.rule.instant);
      await setRules([]);
      for (const id of [before, after]) await api.records.delete('Visits', id);
    });

    it('reads a rule’s day on a datetime as that whole day there: = and ≠ within it, < before it begins, > after it ends', async () => {
      const { typed } = zone.day;
      const ids = Object.fromEntries(await Promise.all((['before', 'first', 'last', 'after'] as const).map(async (at) => [at, await visit(`V-day-${at}`, zone.day[at])] as const)));
      const hiddenOn = async () => {
        const hidden: string[] = [];
        for (const [at, id] of Object.entries(ids)) if (!(await jane.get(`/m/Visits/${id}`)).html.includes('data-field="visit_day"')) hidden.push(at);
        return hidden.sort();
      };
      const cases: [ConditionalRule['conditions'][number]['op'], string[]][] = [
        ['eq', ['first', 'last']],
        ['ne', ['after', 'before']],
        ['lt', ['before']],
        ['gt', ['after']],
      ];
      for (const [op, hidden] of cases) {
        const document = await setRules([{ name: `Day ${op}`, module: 'Visits', conditions: [{ field: 'visited_at', op, value: typed }], effects: [{ field: 'visit_day', effect: 'hidden' }], allReadOnly: false }]);
        // The profile keeps the day, and the privileges page shows it as typed.
        expect(document.rules[0]!.conditions[0]!.value, op).to.equal(typed);
        expect(await hiddenOn(), op).to.deep.equal(hidden);
      }
      const admin = await adminClient(test, 'admin', DEMO_ADMIN_PASSWORD);
      const document = await setRules([{ name: 'Day eq', module: 'Visits', conditions: [{ field: 'visited_at', op: 'eq', value: typed }], effects: [{ field: 'visit_day', effect: 'hidden' }], allReadOnly: false }]);
      const page = await (await admin.get(`${SETTINGS}/profiles/${document.profile.id}/privileges`)).text();
      expect(/Visited at [^<]*?(\d{4}-\d{2}-\d{2}[T\d:.Z]*)\s*</.exec(page)?.[1], 'the condition as the page shows it').to.equal(typed);
      await setRules([]);
      for (const id of Object.values(ids)) await api.records.delete('Visits', id);
    });

    if (zone.crm === 'Europe/Rome') {
      it('refuses a rule’s time the clocks skip, naming the zone; a day is every time of that day there', async () => {
        const refused = await setRules([{ name: 'Skipped', module: 'Visits', conditions: [{ field: 'visited_at', op: 'gte', value: '2026-03-29T02:30' }], effects: [{ field: 'visit_day', effect: 'hidden' }], allReadOnly: false }]).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused).to.be.instanceOf(ProfileValidationError);
        expect((refused as ProfileValidationError).problems[0]).to.deep.include({ messageKey: 'profiles.validation.ruleValueNonexistentTime' });
        expect((refused as ProfileValidationError).problems[0]!.params).to.include({ value: '2026-03-29T02:30', zone: 'Europe/Rome' });
        const document = await setRules([{ name: 'From the day', module: 'Visits', conditions: [{ field: 'visited_at', op: 'in', value: ['2026-07-01', '2026-07-01T10:00+02:00'] }], effects: [{ field: 'visit_day', effect: 'hidden' }], allReadOnly: false }]);
        // A day stays the day: every time of it in the CRM's zone, midnight as the evening.
        expect(document.rules[0]!.conditions[0]!.value).to.deep.equal(['2026-07-01', '2026-07-01T08:00:00.000Z']);
        const midnight = await visit('V-midnight', '2026-06-30T22:00:00Z');
        const evening = await visit('V-evening', '2026-07-01T19:00:00Z');
        const nextDay = await visit('V-next-day', '2026-07-01T22:00:00Z');
        expect((await jane.get(`/m/Visits/${midnight}`)).html).not.to.include('data-field="visit_day"');
        expect((await jane.get(`/m/Visits/${evening}`)).html).not.to.include('data-field="visit_day"');
        expect((await jane.get(`/m/Visits/${nextDay}`)).html).to.include('data-field="visit_day"');
        await setRules([]);
        for (const id of [midnight, evening, nextDay]) await api.records.delete('Visits', id);
      });
    }
  });
}
