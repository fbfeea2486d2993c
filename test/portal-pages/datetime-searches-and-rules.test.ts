/**
 * Every place a datetime typed by hand is read, read in the CRM's time zone (the one the pages
 * show times in), never as UTC, whatever the server's own zone: the rules a refused new record's
 * form is judged by. In a zone that changes its clocks (Rome, around the last Sunday of October)
 * and one far from UTC (Honolulu, UTC-10), each with the other as the server's zone.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ConditionalRule } from '../../plugin/profiles/profile-document.js';
import { defaultProfile } from '../portal-api/api-test-kit.js';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, signedIn, visitsModule } from './portal-pages-kit.js';

interface Zone {
  readonly crm: string;
  readonly server: string;
  /** A new record's typed time, a rule's bound between its UTC reading and its reading in the CRM's zone, and whether the rule hides a field (read right). */
  readonly form: { readonly typed: string; readonly bound: string; readonly hidden: boolean };
}

const ZONES: readonly Zone[] = [
  {
    crm: 'Europe/Rome',
    server: 'Pacific/Honolulu',
    // 02:30 on the night the clocks go back is 00:30 UTC (the first, summer time): before a rule's 01:00 UTC.
    form: { typed: '2026-10-25T02:30', bound: '2026-10-25T01:00:00.000Z', hidden: false },
  },
  {
    crm: 'Pacific/Honolulu',
    server: 'Europe/Rome',
    // 10:00 in Honolulu is 20:00 UTC: after a rule's 15:00 UTC.
    form: { typed: '2026-03-01T10:00', bound: '2026-03-01T15:00:00.000Z', hidden: true },
  },
];

for (const zone of ZONES) {
  describe(`datetimes typed by hand are the CRM’s wall clock (CRM ${zone.crm}, server ${zone.server}) @db`, function () {
    this.timeout(120_000);
    let test: TestHost;
    let api: HostApi;
    let jane: PortalClient;
    let processZone: string | undefined;

    before(async () => {
      processZone = process.env.TZ;
      process.env.TZ = zone.server;
      test = await startTestHost({ demo: true, logLevel: 'error', timeZone: zone.crm });
      api = test.host.api;
      await visitsModule(test);
      jane = await signedIn(test, JANE);
    });
    after(async () => {
      await test?.stop();
      if (processZone === undefined) delete process.env.TZ;
      else process.env.TZ = processZone;
    });

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
  });
}
