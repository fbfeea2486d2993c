/**
 * CRM login sessions, shared by every host process through `crm_sessions`. The cookie carries a
 * 256-bit random token; the table keeps only its SHA-256, which is also the `sessionId` plugins see
 * (stable, secret, never sent in a page). 30 minutes idle, 12 hours at most.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Op, QueryTypes, type Sequelize } from 'sequelize';
import type { CrmSession } from '../../plugin/host-contract/index.js';
import type { SqlUserDirectory } from '../users/user-directory.js';
import { toNumber } from '../schema/row-values.js';

export const CRM_SESSION_COOKIE = 'crm_sid';
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;
/** `last_seen_at` is written at most once a minute per session, not on every request. */
const TOUCH_AFTER_MS = 60_000;
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

function idOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SqlCrmSessions {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly users: SqlUserDirectory,
  ) {}

  /** A new session for a user who has just proved who they are; the token goes into the cookie. */
  async create(userId: number): Promise<{ readonly token: string; readonly sessionId: string }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    await this.sequelize.getQueryInterface().bulkInsert('crm_sessions', [
      { id: idOf(token), user_id: userId, created_at: now, last_seen_at: now, expires_at: now + SESSION_ABSOLUTE_MS },
    ]);
    return { token, sessionId: idOf(token) };
  }

  /** The live session of a cookie token, or null (unknown, expired, idle too long, or its user disabled). */
  async resolve(token: string | undefined): Promise<CrmSession | null> {
    if (!token || !TOKEN_FORMAT.test(token)) return null;
    const sessionId = idOf(token);
    const [row] = await this.sequelize.query<{ user_id: unknown; last_seen_at: unknown; expires_at: unknown }>(
      'SELECT user_id, last_seen_at, expires_at FROM crm_sessions WHERE id = $id',
      { bind: { id: sessionId }, type: QueryTypes.SELECT },
    );
    if (!row) return null;
    const now = Date.now();
    const lastSeen = toNumber(row.last_seen_at);
    if (toNumber(row.expires_at) <= now || lastSeen + SESSION_IDLE_MS <= now) {
      await this.destroyById(sessionId);
      return null;
    }
    const user = await this.users.user(toNumber(row.user_id));
    if (!user || !user.active) {
      await this.destroyById(sessionId);
      return null;
    }
    if (now - lastSeen >= TOUCH_AFTER_MS) {
      await this.sequelize.query('UPDATE crm_sessions SET last_seen_at = $now WHERE id = $id', { bind: { now, id: sessionId } });
    }
    return Object.freeze({ user, sessionId });
  }

  async destroy(token: string | undefined): Promise<void> {
    if (token && TOKEN_FORMAT.test(token)) await this.destroyById(idOf(token));
  }

  /** Ends every session of a user (password change, user disabled). */
  async destroyForUser(userId: number): Promise<void> {
    await this.sequelize.query('DELETE FROM crm_sessions WHERE user_id = $userId', { bind: { userId } });
  }

  /** Deletes the sessions that can no longer be used. */
  async purgeExpired(): Promise<void> {
    const now = Date.now();
    await this.sequelize.getQueryInterface().bulkDelete('crm_sessions', {
      [Op.or]: [{ expires_at: { [Op.lte]: now } }, { last_seen_at: { [Op.lte]: now - SESSION_IDLE_MS } }],
    });
  }

  private async destroyById(sessionId: string): Promise<void> {
    await this.sequelize.query('DELETE FROM crm_sessions WHERE id = $id', { bind: { id: sessionId } });
  }
}
