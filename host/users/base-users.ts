/**
 * The CRM's base roles, groups and users, seeded on every start (idempotent: what exists is left
 * as it is, so an admin's later changes survive restarts). No enclosing transaction: a row that
 * another host process inserted first is skipped, which PostgreSQL does not allow inside one, and
 * a run that stopped half-way is completed by the next start.
 */
import { QueryTypes, UniqueConstraintError, type Sequelize } from 'sequelize';
import { generatePassword, hashPassword } from './password-hash.js';
import { toNumber } from '../schema/row-values.js';

export const ADMIN_USER_NAME = 'admin';
export const DEMO_ADMIN_PASSWORD = 'Admin-demo-1';
/** The password of the seeded staff users in the demo (outside the demo they cannot sign in until given one). */
export const DEMO_STAFF_PASSWORD = 'User-demo-1';
/** A password hash no password matches: the user exists but cannot sign in. */
export const NO_PASSWORD = '!';

const roles = ['Administrator', 'Support', 'Sales'] as const;
const groups = [
  { name: 'Support team', description: 'Agents who answer customer tickets' },
  { name: 'Sales team', description: 'Account managers' },
] as const;

interface SeedUser {
  readonly userName: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly language: string;
  readonly role: (typeof roles)[number];
  readonly groups: readonly string[];
  readonly isAdmin?: boolean;
  readonly active?: boolean;
}

const users: readonly SeedUser[] = [
  { userName: ADMIN_USER_NAME, firstName: 'Ada', lastName: 'Admin', email: 'admin@example.com', language: 'en', role: 'Administrator', groups: [], isAdmin: true },
  { userName: 'sara.support', firstName: 'Sara', lastName: 'Bianchi', email: 'sara.support@example.com', language: 'it', role: 'Support', groups: ['Support team'] },
  { userName: 'tom.support', firstName: 'Tom', lastName: 'Walker', email: 'tom.support@example.com', language: 'en', role: 'Support', groups: ['Support team'] },
  { userName: 'lisa.sales', firstName: 'Lisa', lastName: 'Green', email: 'lisa.sales@example.com', language: 'en', role: 'Sales', groups: ['Sales team'] },
  // Disabled users still own records and may be chosen in settings (the "select user" of portal v1).
  { userName: 'paul.former', firstName: 'Paul', lastName: 'Former', email: 'paul.former@example.com', language: 'en', role: 'Support', groups: ['Support team'], active: false },
];

export interface BaseUsersOptions {
  readonly demo: boolean;
  readonly adminPassword?: string;
}

export interface BaseUsersResult {
  /** Set only when the admin was created now with a generated password: shown once, stored nowhere. */
  readonly generatedAdminPassword?: string;
}

async function idOf(sequelize: Sequelize, table: 'crm_roles' | 'crm_groups' | 'crm_users', column: 'name' | 'user_name', value: string): Promise<number | null> {
  const [row] = await sequelize.query<{ id: number | string }>(`SELECT id FROM ${table} WHERE ${column} = $value`, { bind: { value }, type: QueryTypes.SELECT });
  return row ? toNumber(row.id) : null;
}

/** Inserts a row; another host process that seeded it first is not an error. Whether this call inserted it. */
export async function insertOnce(sequelize: Sequelize, table: string, row: Record<string, unknown>): Promise<boolean> {
  try {
    await sequelize.getQueryInterface().bulkInsert(table, [row]);
    return true;
  } catch (error) {
    if (error instanceof UniqueConstraintError) return false;
    throw error;
  }
}

export async function seedBaseUsers(sequelize: Sequelize, options: BaseUsersOptions): Promise<BaseUsersResult> {
  const now = new Date();
  let generatedAdminPassword: string | undefined;
  // Hashing is slow: done only for the users that are missing.
  const existing = new Set(
    (await sequelize.query<{ user_name: string }>('SELECT user_name FROM crm_users', { type: QueryTypes.SELECT })).map((row) => row.user_name),
  );
  const hashes = new Map<string, string>();
  for (const user of users) {
    if (existing.has(user.userName)) continue;
    if (user.isAdmin) {
      const password = options.demo ? DEMO_ADMIN_PASSWORD : (options.adminPassword ?? (generatedAdminPassword = generatePassword()));
      hashes.set(user.userName, await hashPassword(password));
    } else {
      hashes.set(user.userName, options.demo ? await hashPassword(DEMO_STAFF_PASSWORD) : NO_PASSWORD);
    }
  }

  for (const name of roles) {
    if ((await idOf(sequelize, 'crm_roles', 'name', name)) === null) await insertOnce(sequelize, 'crm_roles', { name, created_at: now });
  }
  for (const group of groups) {
    if ((await idOf(sequelize, 'crm_groups', 'name', group.name)) === null) {
      await insertOnce(sequelize, 'crm_groups', { name: group.name, description: group.description, created_at: now });
    }
  }
  for (const user of users) {
    const hash = hashes.get(user.userName);
    if (hash === undefined) continue;
    const inserted = await insertOnce(sequelize, 'crm_users', {
      user_name: user.userName,
      first_name: user.firstName,
      last_name: user.lastName,
      email: user.email,
      password_hash: hash,
      active: user.active ?? true,
      is_admin: user.isAdmin ?? false,
      language: user.language,
      role_id: await idOf(sequelize, 'crm_roles', 'name', user.role),
      created_at: now,
      updated_at: now,
    });
    if (!inserted) {
      if (user.isAdmin) generatedAdminPassword = undefined;
      continue;
    }
    const userId = await idOf(sequelize, 'crm_users', 'user_name', user.userName);
    for (const groupName of user.groups) {
      const groupId = await idOf(sequelize, 'crm_groups', 'name', groupName);
      if (userId !== null && groupId !== null) await insertOnce(sequelize, 'crm_group_members', { group_id: groupId, user_id: userId });
    }
  }
  return generatedAdminPassword === undefined ? {} : { generatedAdminPassword };
}
