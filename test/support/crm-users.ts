/**
 * CRM users added straight into the reference host's tables, as its user administration would,
 * for tests that need a CRM of hundreds of them (the owner pickers' search). Inserted 200 a
 * statement, which every database takes.
 */
import type { Sequelize } from 'sequelize';

export interface AddedUser {
  readonly userName: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email?: string;
  readonly active?: boolean;
}

export async function addCrmUsers(sequelize: Sequelize, count: number, user: (index: number) => AddedUser): Promise<void> {
  const now = new Date();
  const rows = Array.from({ length: count }, (_, i) => {
    const u = user(i);
    return {
      user_name: u.userName,
      first_name: u.firstName,
      last_name: u.lastName,
      email: u.email ?? `${u.userName}@example.com`,
      password_hash: '!',
      active: u.active ?? true,
      is_admin: false,
      language: 'en',
      role_id: null,
      created_at: now,
      updated_at: now,
    };
  });
  const qi = sequelize.getQueryInterface();
  for (let at = 0; at < rows.length; at += 200) await qi.bulkInsert('crm_users', rows.slice(at, at + 200));
}
