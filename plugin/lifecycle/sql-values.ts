/**
 * Values read back from raw queries differ per dialect (SQLite and MariaDB give 0/1 for
 * booleans, PostgreSQL gives counts as strings, SQLite gives dates as text): normalise here.
 */
export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

export function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number(String(value ?? 0));
  return Number.isFinite(n) ? n : 0;
}

/** A date-time as ISO 8601 in UTC, or null. */
export function toIsoDateTime(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  let date: Date;
  if (value instanceof Date) date = value;
  else {
    // `2026-11-22 10:00:00.000 +00:00` (SQLite) → `2026-11-22T10:00:00.000+00:00`; no zone means UTC.
    const text = String(value).trim().replace(' ', 'T').replace(/\s+(?=[+-]\d\d:?\d\d$)/, '');
    date = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) || !text.includes('T') ? text : `${text}Z`);
  }
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
