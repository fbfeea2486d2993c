/**
 * Conditional field rules evaluated on a record's values, the same way for the page that shows
 * a form, the API that answers a record and the server that checks every save. A rule applies
 * when all its conditions hold; its effects then make fields hidden, read-only or mandatory, or
 * the whole record read-only.
 *
 * Values compare as the host stores them: dates `YYYY-MM-DD` (so text order is date order),
 * datetimes as the instants they name (a rule's value on one is an instant too, or a day as the
 * stretch of time it is, `from/to`: `=` within it, `<` before it, `>` after it), numbers as numbers, multipicklists as lists (`contains` / `eq` test membership / equality).
 * Text is equal only when exactly the same, as in the host's record queries: the locale's
 * collation would take `V\u200BIP`, `VIP\0` or a decomposed accent for the word it looks like.
 */
import type { FieldValue } from '../host-contract/index.js';
import type { ConditionalRule, RuleCondition } from '../profiles/profile-document.js';

export interface RuleOutcome {
  readonly hidden: ReadonlySet<string>;
  readonly readOnly: ReadonlySet<string>;
  readonly mandatory: ReadonlySet<string>;
  readonly allReadOnly: boolean;
}

export const NO_RULE_EFFECTS: RuleOutcome = { hidden: new Set(), readOnly: new Set(), mandatory: new Set(), allReadOnly: false };

type Values = Readonly<Record<string, FieldValue | undefined>>;

const isEmpty = (value: FieldValue | undefined): boolean =>
  value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);

function comparable(value: FieldValue | undefined): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.join(' |##| ');
  return value as string | number | boolean;
}

/** A date and time with its offset (as the host stores datetimes, and a rule's value on one: `datetime-rule-values.ts`), as milliseconds; else null. */
function instant(value: string | number | boolean | null): number | null {
  if (typeof value !== 'string' || !INSTANT.test(value)) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A stretch of time, `from/to` (two instants, `to` excluded: a rule's day, `datetime-rule-values.ts`), as milliseconds; else null. */
function span(value: FieldValue | undefined): readonly [number, number] | null {
  if (typeof value !== 'string') return null;
  const [from, to, more] = value.split('/');
  if (more !== undefined || from === undefined || to === undefined) return null;
  const [start, end] = [instant(from), instant(to)];
  return start === null || end === null ? null : [start, end];
}

function compare(left: FieldValue | undefined, right: FieldValue | undefined): number | null {
  const a = comparable(left);
  const b = comparable(right);
  if (a === null || b === null) return null;
  // An instant and a stretch of time: before it, within it, after it.
  const stretch = span(right);
  if (stretch !== null) {
    const x = instant(a);
    return x === null ? null : x < stretch[0] ? -1 : x >= stretch[1] ? 1 : 0;
  }
  // Two instants compare as times, however each is written (`…T00:30:00.000Z`, `…T02:30+02:00`).
  const [x, y] = [instant(a), instant(b)];
  if (x !== null && y !== null) return x - y;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a);
    const y = Number(b);
    return Number.isNaN(x) || Number.isNaN(y) ? null : x - y;
  }
  return String(a).localeCompare(String(b));
}

function equals(left: FieldValue | undefined, right: FieldValue | undefined): boolean {
  if (Array.isArray(left)) return Array.isArray(right) ? left.length === right.length && left.every((v, i) => v === right[i]) : left.includes(String(right));
  if (typeof left === 'boolean' || typeof right === 'boolean') return Boolean(left) === (right === true || right === 'true' || right === 1);
  if (typeof left === 'string' && span(right) !== null) return compare(left, right) === 0;
  if (typeof left === 'string' && typeof right === 'string') return left === right || (instant(left) !== null && instant(left) === instant(right));
  const order = compare(left, right);
  return order !== null ? order === 0 : isEmpty(left) && isEmpty(right);
}

export function conditionHolds(condition: RuleCondition, values: Values): boolean {
  const actual = values[condition.field];
  const expected = condition.value;
  switch (condition.op) {
    case 'isNull':
      return isEmpty(actual);
    case 'notNull':
      return !isEmpty(actual);
    case 'eq':
      return equals(actual, expected);
    case 'ne':
      return !equals(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((candidate) => equals(actual, candidate));
    case 'contains': {
      if (isEmpty(actual) || expected === undefined || expected === null) return false;
      const needle = String(expected).toLowerCase();
      return Array.isArray(actual) ? actual.some((v) => v.toLowerCase() === needle) : String(actual).toLowerCase().includes(needle);
    }
    case 'startsWith':
      return !isEmpty(actual) && expected !== undefined && expected !== null && String(actual).toLowerCase().startsWith(String(expected).toLowerCase());
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const order = compare(actual, expected);
      if (order === null) return false;
      return condition.op === 'lt' ? order < 0 : condition.op === 'lte' ? order <= 0 : condition.op === 'gt' ? order > 0 : order >= 0;
    }
  }
}

/** The effects of the rules of `module` whose conditions all hold for `values`. */
export function evaluateRules(rules: readonly ConditionalRule[], module: string, values: Values): RuleOutcome {
  const hidden = new Set<string>();
  const readOnly = new Set<string>();
  const mandatory = new Set<string>();
  let allReadOnly = false;
  for (const rule of rules) {
    if (rule.module !== module || !rule.conditions.every((condition) => conditionHolds(condition, values))) continue;
    if (rule.allReadOnly) allReadOnly = true;
    for (const { field, effect } of rule.effects) {
      if (effect === 'hidden') hidden.add(field);
      else if (effect === 'readonly') readOnly.add(field);
      else mandatory.add(field);
    }
  }
  return { hidden, readOnly, mandatory, allReadOnly };
}

/**
 * The fields of `module` that some rule hides on some records. A list cannot be searched, filtered
 * or sorted by them: which rows matched would tell what the hidden values are.
 */
export function fieldsRulesMayHide(rules: readonly ConditionalRule[], module: string): ReadonlySet<string> {
  const fields = new Set<string>();
  for (const rule of rules) if (rule.module === module) for (const { field, effect } of rule.effects) if (effect === 'hidden') fields.add(field);
  return fields;
}

/** Both outcomes at once: what is hidden, read-only or mandatory in either. */
export function unionOfOutcomes(a: RuleOutcome, b: RuleOutcome): RuleOutcome {
  return {
    hidden: new Set([...a.hidden, ...b.hidden]),
    readOnly: new Set([...a.readOnly, ...b.readOnly]),
    mandatory: new Set([...a.mandatory, ...b.mandatory]),
    allReadOnly: a.allReadOnly || b.allReadOnly,
  };
}
