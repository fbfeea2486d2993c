/**
 * A rule's `eq`, `ne` and `in` on text compare exactly, as the host's record queries do
 * (test/records/exact-equality.test.ts): the locale's collation takes a text with an invisible
 * character, a NUL or another Unicode spelling for the same word, so a rule could hold (or not)
 * for a value the CRM and its searches tell apart.
 */
import { expect } from 'chai';
import { conditionWithInstants, rulesWithInstants } from '../../plugin/conditionals/datetime-rule-values.js';
import { conditionHolds, evaluateRules } from '../../plugin/conditionals/rule-evaluation.js';
import type { ConditionalRule, RuleCondition } from '../../plugin/profiles/profile-document.js';

describe('conditional rules: text equality is exact', function () {
  const variants = ['VIP\u200B', 'V\u200BIP', 'VIP\u0000', 'Vi\u0301P', 'vip', 'VIP '];

  it('eq holds for the same text only', function () {
    expect(conditionHolds({ field: 'tier', op: 'eq', value: 'VIP' }, { tier: 'VIP' })).to.equal(true);
    for (const tier of variants) expect(conditionHolds({ field: 'tier', op: 'eq', value: 'VIP' }, { tier }), JSON.stringify(tier)).to.equal(false);
  });

  it('ne and in agree with eq', function () {
    for (const tier of variants) {
      expect(conditionHolds({ field: 'tier', op: 'ne', value: 'VIP' }, { tier }), JSON.stringify(tier)).to.equal(true);
      expect(conditionHolds({ field: 'tier', op: 'in', value: ['Gold', 'VIP'] }, { tier }), JSON.stringify(tier)).to.equal(false);
    }
    expect(conditionHolds({ field: 'tier', op: 'in', value: ['Gold', 'VIP'] }, { tier: 'VIP' })).to.equal(true);
  });

  it('a "show unless" rule hides the field for a look-alike value', function () {
    const rules: ConditionalRule[] = [
      {
        name: 'Discount for VIP only',
        module: 'HelpDesk',
        origin: { kind: 'portal' },
        conditions: [{ field: 'tier', op: 'ne', value: 'VIP' }],
        effects: [{ field: 'discount', effect: 'hidden' }],
        allReadOnly: false,
      },
    ];
    expect([...evaluateRules(rules, 'HelpDesk', { tier: 'VIP' }).hidden]).to.deep.equal([]);
    expect([...evaluateRules(rules, 'HelpDesk', { tier: 'V\u200BIP' }).hidden]).to.deep.equal(['discount']);
  });

  it('numbers, dates and empty values compare as before', function () {
    expect(conditionHolds({ field: 'n', op: 'eq', value: '10' }, { n: 10 })).to.equal(true);
    expect(conditionHolds({ field: 'n', op: 'eq', value: 10 }, { n: '10.0' })).to.equal(true);
    expect(conditionHolds({ field: 'd', op: 'eq', value: '2026-12-05' }, { d: '2026-12-05' })).to.equal(true);
    expect(conditionHolds({ field: 't', op: 'eq', value: '' }, { t: null })).to.equal(true);
    expect(conditionHolds({ field: 't', op: 'lt', value: 'b' }, { t: 'a' })).to.equal(true);
  });
});

describe('conditional rules: datetimes compare as instants, a value typed before read in the CRM’s zone', function () {
  it('compares instants however each is written', function () {
    // 02:30 at +02:00 is 00:30 UTC: before 01:00 UTC, though its text is greater.
    expect(conditionHolds({ field: 'at', op: 'lt', value: '2026-10-25T01:00:00.000Z' }, { at: '2026-10-25T02:30:00+02:00' })).to.equal(true);
    expect(conditionHolds({ field: 'at', op: 'eq', value: '2026-10-25T00:30:00.000Z' }, { at: '2026-10-25T00:30:00Z' })).to.equal(true);
    expect(conditionHolds({ field: 'at', op: 'in', value: ['2026-10-25T02:30+02:00'] }, { at: '2026-10-25T00:30:00.000Z' })).to.equal(true);
  });

  it('reads a rule saved with the wall clock as typed in the CRM’s zone when judging', function () {
    const rules: ConditionalRule[] = [{ name: 'Early', module: 'Visits', origin: { kind: 'portal' }, conditions: [{ field: 'at', op: 'lt', value: '2026-03-01T10:00' }], effects: [{ field: 'day', effect: 'hidden' }], allReadOnly: false }];
    const fieldOf = (_module: string, field: string) => (field === 'at' ? { type: 'datetime' as const } : undefined);
    const honolulu = rulesWithInstants(rules, fieldOf, 'Pacific/Honolulu');
    expect(honolulu[0]!.conditions[0]!.value).to.equal('2026-03-01T20:00:00.000Z');
    // 15:00 UTC is 05:00 in Honolulu: before 10:00 there.
    expect(evaluateRules(honolulu, 'Visits', { at: '2026-03-01T15:00:00.000Z' }).hidden.has('day')).to.equal(true);
    const rome = rulesWithInstants(rules, fieldOf, 'Europe/Rome');
    expect(evaluateRules(rome, 'Visits', { at: '2026-03-01T09:30:00.000Z' }).hidden.has('day')).to.equal(false);
    // A value that names no instant (a time the clocks skip) is left as written.
    const skipped = rulesWithInstants([{ ...rules[0]!, conditions: [{ field: 'at', op: 'lt', value: '2026-03-29T02:30' }] }], fieldOf, 'Europe/Rome');
    expect(skipped[0]!.conditions[0]!.value).to.equal('2026-03-29T02:30');
  });
  it('reads a day on a datetime field as that whole day in the CRM’s zone: eq, ne and in hold within it, lt before it begins, gt after it ends', function () {
    const fieldOf = (_module: string, field: string) => (field === 'at' ? { type: 'datetime' as const } : undefined);
    const holds = (op: RuleCondition['op'], value: RuleCondition['value'], at: string | null, zone: string) => {
      const rules: ConditionalRule[] = [{ name: 'Day', module: 'Visits', origin: { kind: 'portal' }, conditions: [{ field: 'at', op, value }], effects: [{ field: 'day', effect: 'hidden' }], allReadOnly: false }];
      return evaluateRules(rulesWithInstants(rules, fieldOf, zone), 'Visits', { at }).hidden.has('day');
    };
    // 5 December in Rome (UTC+1): from 4 December 23:00 UTC to 5 December 23:00 UTC.
    const [before, first, noon, last, after] = ['2026-12-04T22:59:59.999Z', '2026-12-04T23:00:00.000Z', '2026-12-05T11:00:00.000Z', '2026-12-05T22:59:59.999Z', '2026-12-05T23:00:00.000Z'];
    const table: [RuleCondition['op'], boolean[]][] = [
      ['eq', [false, true, true, true, false]],
      ['ne', [true, false, false, false, true]],
      ['lt', [true, false, false, false, false]],
      ['lte', [true, true, true, true, false]],
      ['gt', [false, false, false, false, true]],
      ['gte', [false, true, true, true, true]],
    ];
    for (const [op, expected] of table) {
      expect([before, first, noon, last, after].map((at) => holds(op, '2026-12-05', at, 'Europe/Rome')), op).to.deep.equal(expected);
    }
    expect(holds('in', ['2026-12-05', '2026-12-07T10:00:00.000Z'], noon, 'Europe/Rome')).to.equal(true);
    expect(holds('in', ['2026-12-05', '2026-12-07T10:00:00.000Z'], after, 'Europe/Rome')).to.equal(false);
    // No time: ne holds, the others do not (as for an instant).
    expect(holds('ne', '2026-12-05', null, 'Europe/Rome')).to.equal(true);
    for (const op of ['eq', 'lt', 'gt'] as const) expect(holds(op, '2026-12-05', null, 'Europe/Rome'), op).to.equal(false);
    // The night the clocks go back, the day has 25 hours: 24 October 22:00 UTC to 25 October 23:00 UTC.
    expect(['2026-10-24T21:59:00.000Z', '2026-10-24T22:00:00.000Z', '2026-10-25T22:59:00.000Z', '2026-10-25T23:00:00.000Z'].map((at) => holds('eq', '2026-10-25', at, 'Europe/Rome'))).to.deep.equal([false, true, true, false]);
    // Honolulu (UTC-10): 1 March is 1 March 10:00 UTC to 2 March 10:00 UTC.
    expect(['2026-03-01T09:59:00.000Z', '2026-03-01T10:00:00.000Z', '2026-03-02T09:59:00.000Z', '2026-03-02T10:00:00.000Z'].map((at) => holds('eq', '2026-03-01', at, 'Pacific/Honolulu'))).to.deep.equal([false, true, true, false]);
    // A day and time is still the instant it names; the profile keeps a day as the day it is.
    expect(holds('eq', '2026-12-05T00:00', noon, 'Europe/Rome')).to.equal(false);
    const saved = conditionWithInstants({ field: 'at', op: 'eq', value: ' 2026-12-05 ' }, { type: 'datetime' }, 'Europe/Rome');
    expect('condition' in saved && saved.condition.value).to.equal('2026-12-05');
  });
});
