/**
 * A rule's `eq`, `ne` and `in` on text compare exactly, as the host's record queries do
 * (test/records/exact-equality.test.ts): the locale's collation takes a text with an invisible
 * character, a NUL or another Unicode spelling for the same word, so a rule could hold (or not)
 * for a value the CRM and its searches tell apart.
 */
import { expect } from 'chai';
import { rulesWithInstants } from '../../plugin/conditionals/datetime-rule-values.js';
import { conditionHolds, evaluateRules } from '../../plugin/conditionals/rule-evaluation.js';
import type { ConditionalRule } from '../../plugin/profiles/profile-document.js';

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
});
