/**
 * Client addresses are recorded in one canonical form now (`plainAddress` in
 * `plugin/auth/client-address.ts`): IPv6 as RFC 5952 writes it (`2001:db8::1`, not `2001:DB8:0::1`),
 * an IPv4-mapped one as plain IPv4 whatever its spelling (`::ffff:c000:0203`, `::FFFF:192.0.2.3`).
 * 20261203000000 moved only `::ffff:` followed by dotted IPv4, and on PostgreSQL only in lower case
 * (its `LIKE` compares case): a client banned under another spelling (a proxy's `X-Forwarded-For`
 * passes any on) was free again after the upgrade, with a fresh failure counter under the new form.
 * Those rows of `bp_client_failures` move to the canonical form (merged with a row of that form, if
 * one exists), and so do the addresses shown on the login-check page; the login history keeps the
 * form it was written in. `down` leaves the canonical form, as 20261203000000 does.
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

const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** `plainAddress` of `plugin/auth/client-address.ts` as of this migration (a migration keeps its own copy). */
const canonicalAddress = (address: string): string => {
  if (!isIPv6(address) || address.includes('%')) return address;
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
  const mapped = MAPPED_IPV4.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
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
    // Every IPv6 spelling holds a colon; plain IPv4 is canonical already.
    const rows = await sequelize.query<FailureRow>(`SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures WHERE ip LIKE '%:%'`, {
      type: QueryTypes.SELECT,
      transaction,
    });
    for (const row of rows) {
      const canonical = canonicalAddress(row.ip);
      if (canonical === row.ip) continue;
      // MariaDB's default collation finds the row itself under another case: that one is not another row.
      const [other] = (
        await sequelize.query<FailureRow>('SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures WHERE ip = :canonical', {
          type: QueryTypes.SELECT,
          replacements: { canonical },
          transaction,
        })
      ).filter((found) => found.ip !== row.ip);
      if (other) {
        await sequelize.query('UPDATE bp_client_failures SET failures = :failures, banned_at = :bannedAt, last_failed_at = :lastFailedAt WHERE ip = :canonical', {
          replacements: {
            canonical,
            failures: Number(other.failures) + Number(row.failures),
            bannedAt: pick(other.banned_at, row.banned_at, false),
            lastFailedAt: pick(other.last_failed_at, row.last_failed_at, true),
          },
          transaction,
        });
        await sequelize.query('DELETE FROM bp_client_failures WHERE ip = :ip', { replacements: { ip: row.ip }, transaction });
      } else {
        await sequelize.query('UPDATE bp_client_failures SET ip = :canonical WHERE ip = :ip', { replacements: { canonical, ip: row.ip }, transaction });
      }
    }
    const accounts = await sequelize.query<{ id: number; last_failed_ip: string }>(`SELECT id, last_failed_ip FROM bp_portal_accounts WHERE last_failed_ip LIKE '%:%'`, {
      type: QueryTypes.SELECT,
      transaction,
    });
    for (const account of accounts) {
      const canonical = canonicalAddress(account.last_failed_ip);
      if (canonical !== account.last_failed_ip) {
        await sequelize.query('UPDATE bp_portal_accounts SET last_failed_ip = :canonical WHERE id = :id', { replacements: { canonical, id: account.id }, transaction });
      }
    }
  });
}

export async function down(): Promise<void> {
  // Nothing to undo: see above.
}
