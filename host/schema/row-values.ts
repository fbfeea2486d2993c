/**
 * Column values as the three dialects return them from raw queries, normalised: booleans come
 * back as `true`, `1` or `'1'`, JSON columns as text (SQLite, sometimes MariaDB) or parsed
 * (PostgreSQL), BIGINT as strings (PostgreSQL), dates as strings or `Date`s.
 */
export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function fromJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function toIsoString(value: unknown): string {
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}
