/**
 * Compiles record conditions and sorts to SQL. Column names come only from the module's
 * definition (anything else is an `UnknownFieldError`) and are quoted; every value is a bind
 * parameter. `eq`, `ne` and `in` compare text exactly on every dialect (case, accents and trailing
 * spaces count); `contains` and `startsWith` ignore the case of every letter (not accents) with
 * `%`, `_`, `\`, `*`, `?` and `[` literal, the same on the three (SQLite: `GLOB`, see case-classes.ts).
 */
import type { QueryInterface } from 'sequelize';
import {
  InvalidQueryError,
  UnknownFieldError,
  type DatabaseDialect,
  type FieldValue,
  type ModuleDefinition,
  type RecordCondition,
  type RecordSort,
} from '../../plugin/host-contract/index.js';
import { isHostManaged } from '../registry/host-managed-fields.js';
import type { SqlModuleRegistry } from '../registry/module-registry.js';
import { caseInsensitiveGlob } from './case-classes.js';
import { conditionParameter, isPlainText, type ColumnType } from './field-values.js';

/** The system columns a query may name, by their contract names. */
const SYSTEM_FIELDS: Readonly<Record<string, { readonly column: string; readonly type: ColumnType }>> = {
  id: { column: 'id', type: 'id' },
  createdAt: { column: 'created_at', type: 'datetime' },
  modifiedAt: { column: 'modified_at', type: 'datetime' },
};


const MAX_DEPTH = 20;
const MAX_TERMS = 1000;
const TEXT_TYPES: ReadonlySet<ColumnType> = new Set(['text', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist']);

/** `!` escapes LIKE wildcards: unlike `\`, it means the same in SQLite, PostgreSQL and MariaDB string literals. */
function likeEscape(value: string): string {
  return value.replace(/[!%_]/g, (c) => `!${c}`);
}


/**
 * The sort keys of a field in a list's order (`orderBy`): whether it is empty (empty values first
 * going up, last going down, on every dialect), then, for a text, its value case-insensitively.
 * An index on these expressions in this exact form serves the order (`CONTACTS_NAME_INDEX`).
 * `column` is quoted.
 */
export function sortKeys(column: string): { readonly empty: string; readonly text: string } {
  return { empty: `CASE WHEN ${column} IS NULL THEN 0 ELSE 1 END`, text: `LOWER(${column})` };
}

/** A read of the related-list links: the column it selects and its filter. */
interface LinkSide {
  readonly select: 'record_id' | 'related_id';
  readonly where: string;
}

/** One compiled statement's bind parameters, named `$p1`, `$p2`, … */
export class BindParameters {
  readonly values: Record<string, unknown> = {};
  private count = 0;

  add(value: unknown): string {
    const name = `p${++this.count}`;
    this.values[name] = value;
    return `$${name}`;
  }

  list(values: readonly unknown[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

export class QueryCompiler {
  private terms = 0;

  constructor(
    private readonly registry: SqlModuleRegistry,
    private readonly qi: QueryInterface,
    private readonly dialect: DatabaseDialect,
    readonly bind: BindParameters = new BindParameters(),
  ) {}

  quote(identifier: string): string {
    return this.qi.quoteIdentifier(identifier);
  }

  /** The quoted column and type of a field the caller may name. */
  column(module: ModuleDefinition, name: string): { readonly sql: string; readonly type: ColumnType } {
    const system = Object.hasOwn(SYSTEM_FIELDS, name) ? SYSTEM_FIELDS[name] : undefined;
    if (system) return { sql: this.quote(system.column), type: system.type };
    const field = module.fields.find((f) => f.name === name);
    if (!field || isHostManaged(module.name, name)) throw new UnknownFieldError(module.name, String(name));
    return { sql: this.quote(this.registry.columnOf(module.name, name)), type: field.type };
  }

  where(module: ModuleDefinition, condition: RecordCondition | undefined): string {
    this.terms = 0;
    return condition === undefined ? '1 = 1' : this.condition(module, condition, 0);
  }

  /**
   * `numberField` is the module's record-number field (`ticket_no`): its numbers sort as numbers
   * (TT9 before TT10 before TT100), shorter first, then as text — a series keeps one prefix.
   * A picklist with `picklistOrder` sorts by its place in the picklist, then by value.
   */
  orderBy(module: ModuleDefinition, sort: readonly RecordSort[] | undefined, numberField?: string): string {
    const parts: string[] = [];
    let hasId = false;
    for (const entry of sort ?? []) {
      if (entry.direction !== 'asc' && entry.direction !== 'desc') throw new InvalidQueryError('A sort direction must be "asc" or "desc"');
      const { sql, type } = this.column(module, entry.field);
      const direction = entry.direction === 'asc' ? 'ASC' : 'DESC';
      // Empty values first going up, last going down, on every dialect; texts case-insensitively.
      // System columns are never empty: sorted as they are, an index on (scope column, modified_at) gives the order.
      const keys = sortKeys(sql);
      if (!Object.hasOwn(SYSTEM_FIELDS, entry.field)) parts.push(`${keys.empty} ${direction}`);
      if (entry.field === numberField) parts.push(`LENGTH(${sql}) ${direction}`);
      if (entry.picklistOrder === true && type === 'picklist') {
        const rank = this.picklistRank(module, entry.field, sql, entry.direction);
        if (rank) parts.push(`${rank} ASC`);
      }
      parts.push(`${TEXT_TYPES.has(type) ? keys.text : sql} ${direction}`);
      if (entry.field === 'id') hasId = true;
    }
    if (!hasId) parts.push(`${this.quote('id')} ASC`);
    return parts.join(', ');
  }

  /**
   * A picklist's place in its definition's order (contract 1.5.0, `picklistOrder`): going up the
   * first value is 0, going down the last; values not in the picklist (legacy data) rank after
   * every known value both ways, then sort among themselves by value. The values are bound.
   * A value matches exactly, as on SQLite and PostgreSQL: MariaDB's default collation would rank
   * `high` or `High ` as `High`, so there the column is compared as bytes (`BINARY`).
   */
  private picklistRank(module: ModuleDefinition, name: string, sql: string, direction: 'asc' | 'desc'): string | undefined {
    const values = module.fields.find((f) => f.name === name)?.picklistValues ?? [];
    if (values.length === 0) return undefined;
    const whens = values.map((value, index) => `WHEN ${this.bind.add(value)} THEN ${direction === 'asc' ? index : values.length - 1 - index}`);
    return `CASE ${this.dialect === 'mariadb' ? `BINARY ${sql}` : sql} ${whens.join(' ')} ELSE ${values.length} END`;
  }

  /** Counts one more condition at `depth`, within the limits. */
  private enter(depth: number): void {
    if (depth > MAX_DEPTH || ++this.terms > MAX_TERMS) throw new InvalidQueryError('A record condition is too deep or too large');
  }

  private condition(module: ModuleDefinition, condition: RecordCondition, depth: number): string {
    this.enter(depth);
    if (typeof condition !== 'object' || condition === null) throw new InvalidQueryError('A record condition must be an object');
    if ('and' in condition) return this.group(module, condition.and, 'AND', depth);
    if ('or' in condition) return this.group(module, condition.or, 'OR', depth);
    if ('not' in condition) return `NOT (${this.condition(module, condition.not, depth + 1)})`;
    if ('linkedThrough' in condition) return this.linkedThrough(module, condition.linkedThrough, condition.ids);
    if ('field' in condition) return this.comparison(module, condition.field, condition.op, condition.value);
    throw new InvalidQueryError('A record condition needs "and", "or", "not", "field" or "linkedThrough"');
  }

  private group(module: ModuleDefinition, conditions: readonly RecordCondition[], joiner: 'AND' | 'OR', depth: number): string {
    if (!Array.isArray(conditions)) throw new InvalidQueryError(`"${joiner.toLowerCase()}" must be a list of conditions`);
    if (conditions.length === 0) return joiner === 'AND' ? '1 = 1' : '1 = 0';
    if (joiner === 'OR') return this.anyOf(module, conditions, depth);
    return `(${conditions.map((c) => this.condition(module, c, depth + 1)).join(' AND ')})`;
  }

  /**
   * An OR whose related-list terms read the links table from the same side becomes one subquery
   * (`id IN (SELECT record_id FROM links WHERE (…) OR (…))`): PostgreSQL and MariaDB turn
   * `id IN (subquery) OR id IN (subquery)` into a scan of the whole module table, one subquery
   * they join through the indexes.
   */
  private anyOf(module: ModuleDefinition, conditions: readonly RecordCondition[], depth: number): string {
    const terms: string[] = [];
    const links = new Map<LinkSide['select'], string[]>();
    for (const condition of conditions) {
      if (typeof condition !== 'object' || condition === null || !('linkedThrough' in condition)) {
        terms.push(this.condition(module, condition, depth + 1));
        continue;
      }
      this.enter(depth + 1);
      for (const side of this.linkSides(module, condition.linkedThrough, condition.ids)) {
        if (typeof side === 'string') terms.push(side);
        else links.set(side.select, [...(links.get(side.select) ?? []), side.where]);
      }
    }
    for (const [select, filters] of links) terms.push(this.linksSubquery({ select, where: filters.length === 1 ? filters[0]! : filters.map((f) => `(${f})`).join(' OR ') }));
    return terms.length === 0 ? '1 = 0' : `(${terms.join(' OR ')})`;
  }

  private linksSubquery(side: LinkSide): string {
    return `${this.quote('id')} IN (SELECT ${side.select} FROM ${this.quote('crm_relation_links')} WHERE ${side.where})`;
  }

  private comparison(module: ModuleDefinition, field: string, op: string, value: FieldValue | readonly number[] | undefined): string {
    const { sql, type } = this.column(module, field);
    const parameter = (v: unknown) => conditionParameter(type, v, this.dialect);
    switch (op) {
      case 'isNull':
        return `${sql} IS NULL`;
      case 'notNull':
        return `${sql} IS NOT NULL`;
      case 'eq':
      case 'ne': {
        if (value === null || value === undefined) return `${sql} ${op === 'eq' ? 'IS NULL' : 'IS NOT NULL'}`;
        const match = type === 'multipicklist' ? this.hasElement(sql, value) : this.equals(sql, type, parameter(value));
        // `ne` also holds for empty values, as a person reading "status is not Closed" expects.
        return op === 'eq' ? match : `(NOT (${match}) OR ${sql} IS NULL)`;
      }
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const p = parameter(value);
        if (p === undefined || value === null) return '1 = 0';
        const operator = { lt: '<', lte: '<=', gt: '>', gte: '>=' }[op];
        return `${sql} ${operator} ${this.bind.add(p)}`;
      }
      case 'in': {
        const values = Array.isArray(value) ? (value as unknown[]) : [value];
        if (values.length > MAX_TERMS) throw new InvalidQueryError('An "in" condition may list at most 1000 values');
        if (type === 'multipicklist') return values.length === 0 ? '1 = 0' : `(${values.map((v) => this.hasElement(sql, v)).join(' OR ')})`;
        const parameters = values.map(parameter).filter((p) => p !== undefined);
        return parameters.length === 0 ? '1 = 0' : this.exactly(sql, type, 'IN', `(${this.bind.list(parameters)})`);
      }
      case 'contains':
      case 'startsWith': {
        if ((typeof value !== 'string' && typeof value !== 'number') || !isPlainText(String(value))) return '1 = 0';
        let needle = String(value);
        let anywhere = op === 'contains';
        if (type === 'multipicklist') {
          // A JSON list: the text is looked for inside one of its values, as JSON writes it (`"` as
          // `\"`), so it never spans two; the list's own `[`, `,` and `]` alone are not a value's.
          needle = JSON.stringify(needle).slice(1, -1);
          if (/^[[\],]*$/.test(needle)) return '1 = 0';
          if (!anywhere) [needle, anywhere] = [`"${needle}`, true];
        }
        const text = this.asText(sql, type);
        if (this.dialect === 'sqlite') return `${text} GLOB ${this.bind.add(caseInsensitiveGlob(needle, anywhere))}`;
        const pattern = `${anywhere ? '%' : ''}${likeEscape(needle)}%`;
        // MariaDB's default collation would also ignore accents and take every emoji for every other: the lowered texts compare as bytes.
        return `LOWER(${text}) LIKE LOWER(${this.bind.add(pattern)})${this.dialect === 'mariadb' ? ' COLLATE utf8mb4_bin' : ''} ESCAPE '!'`;
      }
      default:
        throw new InvalidQueryError(`Unknown comparison operator "${String(op).slice(0, 20)}"`);
    }
  }

  private equals(sql: string, type: ColumnType, parameter: unknown): string {
    return parameter === undefined ? '1 = 0' : this.exactly(sql, type, '=', this.bind.add(parameter));
  }

  /**
   * `column = value` or `column IN (values)`, exact for text as on SQLite and PostgreSQL: MariaDB's
   * default collation (utf8mb4_general_ci) would also take `published`, `Published ` and
   * `Publishéd` for `Published`. There the bytes are compared too (`BINARY`, which, unlike
   * utf8mb4_bin, does not ignore trailing spaces); the plain comparison before it keeps an index
   * on the column usable. The same bind parameters serve both.
   */
  private exactly(sql: string, type: ColumnType, operator: '=' | 'IN', operand: string): string {
    if (this.dialect !== 'mariadb' || !TEXT_TYPES.has(type)) return `${sql} ${operator} ${operand}`;
    return `(${sql} ${operator} ${operand} AND BINARY ${sql} ${operator} ${operand})`;
  }

  /**
   * A multipicklist holds a JSON list: an element matches as its quoted JSON text, found exactly
   * (SQLite's LIKE ignores the case of A–Z, MariaDB's collation case and accents).
   */
  private hasElement(sql: string, value: unknown): string {
    if (typeof value !== 'string' || !isPlainText(value)) return '1 = 0';
    const element = this.bind.add(JSON.stringify(value));
    if (this.dialect === 'postgres') return `strpos(${sql}, ${element}) > 0`;
    return `INSTR(${this.dialect === 'mariadb' ? `BINARY ${sql}` : sql}, ${element}) > 0`;
  }

  private asText(sql: string, type: ColumnType): string {
    if (TEXT_TYPES.has(type)) return sql;
    return `CAST(${sql} AS ${this.dialect === 'mariadb' ? 'CHAR' : 'TEXT'})`;
  }

  /**
   * Records linked to one of `ids` (of the other module) through a related list, or through a
   * reference field in either direction. A relation of a module with itself matches both ways.
   */
  private linkedThrough(module: ModuleDefinition, relationId: string, ids: readonly number[]): string {
    const sides = this.linkSides(module, relationId, ids).map((side) => (typeof side === 'string' ? side : this.linksSubquery(side)));
    if (sides.length === 0) return '1 = 0';
    return sides.length === 1 ? sides[0]! : `(${sides.join(' OR ')})`;
  }

  /** The alternatives of a `linkedThrough`: reads of the links table (merged by `anyOf`), or SQL. */
  private linkSides(module: ModuleDefinition, relationId: string, ids: readonly number[]): (LinkSide | string)[] {
    const relation = typeof relationId === 'string' ? this.registry.relation(relationId) : undefined;
    if (!relation || (relation.module !== module.name && relation.relatedModule !== module.name)) {
      throw new UnknownFieldError(module.name, String(relationId));
    }
    if (!Array.isArray(ids)) throw new InvalidQueryError('"linkedThrough" needs a list of ids');
    if (ids.length > MAX_TERMS) throw new InvalidQueryError('"linkedThrough" may list at most 1000 ids');
    const valid = ids.filter((id) => Number.isSafeInteger(id) && id > 0);
    if (valid.length === 0) return [];
    const id = this.quote('id');
    const sides: (LinkSide | string)[] = [];
    if (relation.kind === 'related-list') {
      if (relation.module === module.name) {
        sides.push({ select: 'record_id', where: `relation_id = ${this.bind.add(relation.id)} AND related_id IN (${this.bind.list(valid)})` });
      }
      if (relation.relatedModule === module.name) {
        sides.push({ select: 'related_id', where: `relation_id = ${this.bind.add(relation.id)} AND record_id IN (${this.bind.list(valid)})` });
      }
    } else {
      const field = this.quote(this.registry.columnOf(relation.module, relation.field!));
      if (relation.module === module.name) sides.push(`${field} IN (${this.bind.list(valid)})`);
      if (relation.relatedModule === module.name) {
        const table = this.quote(this.registry.tableName(relation.module));
        sides.push(`${id} IN (SELECT ${field} FROM ${table} WHERE ${id} IN (${this.bind.list(valid)}) AND ${field} IS NOT NULL)`);
      }
    }
    return sides;
  }
}
