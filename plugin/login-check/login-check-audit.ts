/**
 * What CRM admins did on the Check Business Portal login page (`bp_login_check_audit`): who,
 * when, what, and whether it changed anything. Every entry also goes to the host's log.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase, HostLogger, type CrmUser } from '../host-contract/index.js';
import { afterCommit } from '../lifecycle/after-commit.js';
import { toBoolean, toIsoDateTime, toNumber } from '../lifecycle/sql-values.js';

export const AUDIT_TABLE = 'bp_login_check_audit';

export type LoginCheckAction = 'unlock' | 'lift_ban';

export interface LoginCheckAuditEntry {
  readonly id: number;
  readonly userId: number;
  readonly userName: string;
  readonly action: LoginCheckAction;
  /** The contact id (unlock) or the client address (lift_ban). */
  readonly target: string;
  readonly applied: boolean;
  /** ISO 8601, UTC. */
  readonly at: string;
}

export const LoginCheckAudit = Symbol.for('business-portal.loginCheck.LoginCheckAudit');
export interface LoginCheckAudit {
  /**
   * In the caller's transaction when given: the entry is written with the change it records, or
   * neither is; the host's log hears of it once the transaction commits.
   */
  record(admin: CrmUser, action: LoginCheckAction, target: string, applied: boolean, options?: { readonly transaction?: Transaction }): Promise<void>;
  /** `record` of one action on many targets (a batch of unlocks) in one statement; the host's log hears of each. */
  recordMany(admin: CrmUser, action: LoginCheckAction, targets: readonly { readonly target: string; readonly applied: boolean }[], options?: { readonly transaction?: Transaction }): Promise<void>;
  /** Newest first. */
  latest(limit: number): Promise<readonly LoginCheckAuditEntry[]>;
}

const LOG_MESSAGES: Readonly<Record<LoginCheckAction, Readonly<Record<'applied' | 'nothing', string>>>> = {
  unlock: {
    applied: 'Business Portal: an admin unlocked a portal user',
    nothing: 'Business Portal: an admin asked to unlock a portal user who was not locked',
  },
  lift_ban: {
    applied: 'Business Portal: an admin lifted a client address ban',
    nothing: 'Business Portal: an admin asked to lift the ban of a client address that was not banned',
  },
};

@injectable()
export class SequelizeLoginCheckAudit implements LoginCheckAudit {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostLogger) private readonly logger: HostLogger,
  ) {}

  record(admin: CrmUser, action: LoginCheckAction, target: string, applied: boolean, options: { readonly transaction?: Transaction } = {}): Promise<void> {
    return this.recordMany(admin, action, [{ target, applied }], options);
  }

  async recordMany(
    admin: CrmUser,
    action: LoginCheckAction,
    targets: readonly { readonly target: string; readonly applied: boolean }[],
    options: { readonly transaction?: Transaction } = {},
  ): Promise<void> {
    if (targets.length === 0) return;
    const { transaction } = options;
    const replacements: Record<string, unknown> = { userId: admin.id, userName: admin.userName.slice(0, 100), action, at: new Date() };
    const rows = targets.map(({ target, applied }, index) => {
      Object.assign(replacements, { [`target${index}`]: target.slice(0, 64), [`applied${index}`]: applied });
      return `(:userId, :userName, :action, :target${index}, :applied${index}, :at)`;
    });
    await this.database.sequelize.query(`INSERT INTO ${AUDIT_TABLE} (user_id, user_name, action, target, applied, at) VALUES ${rows.join(', ')}`, {
      type: QueryTypes.INSERT,
      replacements,
      transaction,
    });
    const log = () => {
      for (const { target, applied } of targets) {
        this.logger.info(LOG_MESSAGES[action][applied ? 'applied' : 'nothing'], { adminUserId: admin.id, adminUserName: admin.userName, target, applied });
      }
    };
    // Not Sequelize's `transaction.afterCommit`, which runs also when the COMMIT fails.
    if (transaction) afterCommit(transaction, async () => log());
    else log();
  }

  async latest(limit: number): Promise<readonly LoginCheckAuditEntry[]> {
    const rows = await this.database.sequelize.query<Record<string, unknown>>(
      `SELECT id, user_id, user_name, action, target, applied, at FROM ${AUDIT_TABLE} ORDER BY at DESC, id DESC LIMIT ${Math.max(1, Math.min(Math.trunc(limit), 200))}`,
      { type: QueryTypes.SELECT },
    );
    return rows.map((row) => ({
      id: toNumber(row.id),
      userId: toNumber(row.user_id),
      userName: String(row.user_name),
      action: String(row.action) as LoginCheckAction,
      target: String(row.target),
      applied: toBoolean(row.applied),
      at: toIsoDateTime(row.at)!,
    }));
  }
}
