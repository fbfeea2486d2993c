/**
 * Client addresses are recorded as plain IPv4 now (`plugin/auth/client-address.ts`): an IPv4
 * client on a dual-stack socket used to be recorded as `::ffff:203.0.113.7`. The failure counts
 * and bans of `bp_client_failures` are keyed by the address, so those rows move to the plain form
 * (merged with a row of that form, if one exists), or a banned client would be free again after
 * the upgrade. The addresses shown on the login-check page move too; the login history keeps the
 * form it was written in. `down` leaves the plain form (it is what a restored older version
 * records too, for clients on IPv4 sockets).
 */
import { isIPv4 } from 'node:net';
import { QueryTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const MAPPED = '::ffff:';

interface FailureRow {
  ip: string;
  failures: number | string;
  banned_at: Date | string | null;
  last_failed_at: Date | string | null;
}

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
    const mapped = await sequelize.query<FailureRow>(`SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures WHERE ip LIKE '${MAPPED}%'`, {
      type: QueryTypes.SELECT,
      transaction,
    });
    for (const row of mapped) {
      const plain = row.ip.slice(MAPPED.length);
      if (!isIPv4(plain)) continue;
      const [other] = await sequelize.query<FailureRow>('SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures WHERE ip = :plain', {
        type: QueryTypes.SELECT,
        replacements: { plain },
        transaction,
      });
      if (other) {
        await sequelize.query('UPDATE bp_client_failures SET failures = :failures, banned_at = :bannedAt, last_failed_at = :lastFailedAt WHERE ip = :plain', {
          replacements: {
            plain,
            failures: Number(other.failures) + Number(row.failures),
            bannedAt: pick(other.banned_at, row.banned_at, false),
            lastFailedAt: pick(other.last_failed_at, row.last_failed_at, true),
          },
          transaction,
        });
        await sequelize.query('DELETE FROM bp_client_failures WHERE ip = :ip', { replacements: { ip: row.ip }, transaction });
      } else {
        await sequelize.query('UPDATE bp_client_failures SET ip = :plain WHERE ip = :ip', { replacements: { plain, ip: row.ip }, transaction });
      }
    }
    const accounts = await sequelize.query<{ id: number; last_failed_ip: string }>(`SELECT id, last_failed_ip FROM bp_portal_accounts WHERE last_failed_ip LIKE '${MAPPED}%'`, {
      type: QueryTypes.SELECT,
      transaction,
    });
    for (const account of accounts) {
      const plain = account.last_failed_ip.slice(MAPPED.length);
      if (isIPv4(plain)) await sequelize.query('UPDATE bp_portal_accounts SET last_failed_ip = :plain WHERE id = :id', { replacements: { plain, id: account.id }, transaction });
    }
  });
}

export async function down(): Promise<void> {
  // Nothing to undo: see above.
}
