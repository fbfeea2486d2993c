/**
 * An IPv6 client is counted by its /64 now (`clientKey` in `plugin/auth/client-address.ts`): the
 * ban after repeated failures and the hourly reset requests per client. Rows of
 * `bp_client_failures` recorded per IPv6 address move to their /64 (`2001:db8:1:2::/64`), merged
 * with the other addresses of that /64 (failures added, the earlier ban kept): a client banned
 * under one address stays banned, now for its whole /64, and was not free again after the
 * upgrade. The last hour's reset requests move to their /64 too. The addresses shown on the
 * login-check page for accounts and in the login history stay whole. `down` leaves the /64s, as
 * 20261204300000 leaves the canonical form: an older plugin counts them as clients of their own.
 */
import { isIPv6 } from 'node:net';
import { QueryTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

interface FailureRow {
  ip: string;
  failures: number | string;
  banned_at: Date | string | null;
  last_failed_at: Date | string | null;
}

/**
 * `clientKey` of `plugin/auth/client-address.ts` as of this migration (a migration keeps its own
 * copy), for addresses recorded in canonical form (20261204300000): the /64 of an IPv6 one.
 */
const prefixOf = (address: string): string | null => {
  if (!isIPv6(address)) return null;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  try {
    return `${new URL(`http://[${groups.slice(0, 4).join(':')}::]/`).hostname.slice(1, -1)}/64`;
  } catch {
    return null;
  }
};

/** A DATE column as read back: a Date (PostgreSQL, MariaDB) or text (SQLite: `2026-11-01 10:00:00.000 +00:00`). */
const instant = (value: Date | string | null): number | null => {
  if (value === null) return null;
  const time = value instanceof Date ? value.getTime() : Date.parse(value.replace(' ', 'T').replace(' ', ''));
  return Number.isNaN(time) ? null : time;
};

/** The earlier of two optional dates (a ban's start), or the later (the last failure). */
const pick = (a: Date | string | null, b: Date | string | null, later: boolean): Date | null => {
  const [first, second] = [instant(a), instant(b)];
  if (first === null) return second === null ? null : new Date(second);
  if (second === null) return new Date(first);
  return new Date(later === (first < second) ? second : first);
};

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const { sequelize } = context;
  await sequelize.transaction(async (transaction) => {
    // Every IPv6 address holds a colon; IPv4 stays as it is.
    const rows = await sequelize.query<FailureRow>(`SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures WHERE ip LIKE '%:%'`, {
      type: QueryTypes.SELECT,
      transaction,
    });
    for (const row of rows) {
      const prefix = prefixOf(row.ip);
      if (prefix === null) continue;
      const [other] = await sequelize.query<FailureRow>('SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures WHERE ip = :prefix', {
        type: QueryTypes.SELECT,
        replacements: { prefix },
        transaction,
      });
      if (other) {
        await sequelize.query('UPDATE bp_client_failures SET failures = :failures, banned_at = :bannedAt, last_failed_at = :lastFailedAt WHERE ip = :prefix', {
          replacements: {
            prefix,
            failures: Number(other.failures) + Number(row.failures),
            bannedAt: pick(other.banned_at, row.banned_at, false),
            lastFailedAt: pick(other.last_failed_at, row.last_failed_at, true),
          },
          transaction,
        });
        await sequelize.query('DELETE FROM bp_client_failures WHERE ip = :ip', { replacements: { ip: row.ip }, transaction });
      } else {
        await sequelize.query('UPDATE bp_client_failures SET ip = :prefix WHERE ip = :ip', { replacements: { prefix, ip: row.ip }, transaction });
      }
    }
    // Only the last hour's requests are counted: older ones can stay as they are.
    const requests = await sequelize.query<{ id: number; ip: string }>(`SELECT id, ip FROM bp_reset_requests WHERE ip LIKE '%:%' AND at > :hourAgo`, {
      type: QueryTypes.SELECT,
      replacements: { hourAgo: new Date(Date.now() - 60 * 60_000) },
      transaction,
    });
    for (const request of requests) {
      const prefix = prefixOf(request.ip);
      if (prefix !== null) await sequelize.query('UPDATE bp_reset_requests SET ip = :prefix WHERE id = :id', { replacements: { prefix, id: request.id }, transaction });
    }
  });
}

export async function down(): Promise<void> {
  // Nothing to undo: see above.
}
