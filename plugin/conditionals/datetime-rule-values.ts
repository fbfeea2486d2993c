/**
 * A conditional rule's value on a datetime field. An admin types it on the privileges page as the
 * CRM's wall clock (`2026-10-25T02:30`, in `HostRegional.timeZone()`, the time the portal's pages
 * show), or a time with its offset: the profile stores the instant, ISO 8601 in UTC, as the host
 * stores datetimes, and the page shows it back as the CRM's wall clock. Or a day (`2026-10-25`):
 * the profile keeps the day, and it means that whole day in the CRM's zone (`searchedSpans`, as a
 * list's column search reads it): `=`, `≠` and *is one of* hold within it, `<` before it begins,
 * `≤` before it ends, `>` after it ends, `≥` from its start. The rules are judged with each day as
 * the stretch of time it is (`from/to`) and each time as an instant (`rule-evaluation.ts`).
 *
 * A rule saved before held the text typed: it is read the same way when the rules are judged, so
 * no stored profile needs rewriting.
 */
import { instantText, isDateOnly } from '../access/field-input.js';
import { instantOf, searchedSpans, wallTime } from '../access/wall-clock.js';
import type { FieldDefinition, FieldValue } from '../host-contract/index.js';
import type { ConditionalRule, RuleCondition } from '../profiles/profile-document.js';

export type RuleInstant = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: 'invalid' | 'nonexistent' };

/** A datetime rule's value as the profile keeps it (see above): a day as the day, a time as its instant in `timeZone` (a time the clocks skip there is none). */
export function ruleInstant(text: string, timeZone: string): RuleInstant {
  const written = text.trim();
  if (isDateOnly(written)) return { ok: true, value: written };
  if (wallTime(written) !== null) {
    const read = instantOf(written, timeZone);
    return read.ok ? { ok: true, value: read.instant } : read;
  }
  const instant = instantText(written);
  return instant === null ? { ok: false, reason: 'invalid' } : { ok: true, value: instant };
}

/** Operators whose value is compared with the field's (the others test emptiness or text). */
const COMPARED = new Set<RuleCondition['op']>(['eq', 'ne', 'in', 'lt', 'lte', 'gt', 'gte']);

/**
 * A condition with its datetime values as instants, or the first value that names none (and why).
 * Conditions on other fields, other operators and empty values are kept as they are.
 */
export function conditionWithInstants(condition: RuleCondition, field: Pick<FieldDefinition, 'type'> | undefined, timeZone: string): { readonly condition: RuleCondition } | { readonly refused: string; readonly reason: 'invalid' | 'nonexistent' } {
  if (field?.type !== 'datetime' || !COMPARED.has(condition.op)) return { condition };
  const read = (value: FieldValue | undefined): RuleInstant | null => (typeof value === 'string' && value.trim() !== '' ? ruleInstant(value, timeZone) : null);
  const values = Array.isArray(condition.value) ? condition.value : [condition.value];
  const instants: (FieldValue | undefined)[] = [];
  for (const value of values) {
    const instant = read(value);
    if (instant && !instant.ok) return { refused: String(value), reason: instant.reason };
    instants.push(instant ? instant.value : value);
  }
  const value = Array.isArray(condition.value) ? (instants as string[]) : instants[0];
  return { condition: { ...condition, ...(value === undefined ? {} : { value }) } };
}

/**
 * Rules as they are judged: their datetime values as instants in `timeZone` (a rule saved before
 * kept the CRM's wall clock as typed). A value that names no instant is left as written: it
 * matches no stored time.
 */
export function rulesWithInstants(rules: readonly ConditionalRule[], fieldOf: (module: string, field: string) => Pick<FieldDefinition, 'type'> | undefined, timeZone: string): ConditionalRule[] {
  // A day as the stretch of time it is in `timeZone`, `from/to` (ISO 8601's interval): `rule-evaluation.ts` reads it.
  const judged = (value: FieldValue | undefined): FieldValue | undefined => {
    const span = typeof value === 'string' && isDateOnly(value) ? searchedSpans(value, timeZone, { wallClock: false })?.[0] : undefined;
    return span ? `${span.from}/${span.to}` : value;
  };
  return rules.map((rule) => {
    if (!rule.conditions.some((c) => fieldOf(rule.module, c.field)?.type === 'datetime')) return rule;
    const conditions = rule.conditions.map((c) => {
      const read = conditionWithInstants(c, fieldOf(rule.module, c.field), timeZone);
      if (!('condition' in read)) return c;
      const { value } = read.condition;
      if (value === undefined || !COMPARED.has(c.op)) return read.condition;
      return { ...read.condition, value: Array.isArray(value) ? value.map((v) => judged(v) as string) : (judged(value) ?? null) };
    });
    return { ...rule, conditions };
  });
}
