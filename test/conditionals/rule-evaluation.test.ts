/**
 * A rule's `eq`, `ne` and `in` on text compare exactly, as the host's record queries do
 * (test/records/exact-equality.test.ts): the locale's collation takes a text with an invisible
 * character, a NUL or another Unicode spelling for the same word, so a rule could hold (or not)
 * for a value the CRM and its searches tell apart.
 */
import { expect } from 'chai';
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
