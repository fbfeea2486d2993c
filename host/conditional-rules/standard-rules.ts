/**
 * A few conditional field rules of the CRM, as an administrator would set them up (seeded on
 * every start; a rule that exists by name is left as it is).
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { CrmConditionalRule } from '../../plugin/host-contract/index.js';
import { insertOnce } from '../users/base-users.js';
import { toNumber } from '../schema/row-values.js';

type SeedRule = Omit<CrmConditionalRule, 'id' | 'roleIds' | 'groupIds'> & { readonly roles?: readonly string[]; readonly groups?: readonly string[] };

export const STANDARD_RULES: readonly SeedRule[] = [
  {
    name: 'Blocked organizations are read-only',
    module: 'Accounts',
    conditions: [{ field: 'status', op: 'eq', value: 'Blocked' }],
    effects: [],
    allReadOnly: true,
  },
  {
    name: 'The solution of a closed ticket is final',
    module: 'HelpDesk',
    conditions: [{ field: 'status', op: 'eq', value: 'Closed' }],
    effects: [{ field: 'solution', effect: 'readonly' }],
    allReadOnly: false,
  },
  {
    name: 'Support: urgent tickets need a severity',
    module: 'HelpDesk',
    roles: ['Support'],
    conditions: [{ field: 'priority', op: 'eq', value: 'Urgent' }],
    effects: [{ field: 'severity', effect: 'mandatory' }],
    allReadOnly: false,
  },
  {
    name: 'Sales team: won opportunities keep their amount',
    module: 'Potentials',
    groups: ['Sales team'],
    conditions: [{ field: 'sales_stage', op: 'eq', value: 'Closed Won' }],
    effects: [{ field: 'amount', effect: 'readonly' }],
    allReadOnly: false,
  },
];

async function idsByName(sequelize: Sequelize, table: 'crm_roles' | 'crm_groups', names: readonly string[] = []): Promise<number[]> {
  if (names.length === 0) return [];
  const rows = await sequelize.query<{ id: unknown; name: string }>(`SELECT id, name FROM ${table}`, { type: QueryTypes.SELECT });
  return rows.filter((row) => names.includes(row.name)).map((row) => toNumber(row.id));
}

/** Needs the base roles and groups (seeded first). */
export async function seedStandardRules(sequelize: Sequelize): Promise<void> {
  const existing = new Set(
    (await sequelize.query<{ name: string }>('SELECT name FROM crm_conditional_rules', { type: QueryTypes.SELECT })).map((row) => row.name),
  );
  const now = new Date();
  for (const rule of STANDARD_RULES) {
    if (existing.has(rule.name)) continue;
    await insertOnce(sequelize, 'crm_conditional_rules', {
      name: rule.name,
      module: rule.module,
      role_ids: JSON.stringify(await idsByName(sequelize, 'crm_roles', rule.roles)),
      group_ids: JSON.stringify(await idsByName(sequelize, 'crm_groups', rule.groups)),
      conditions: JSON.stringify(rule.conditions),
      effects: JSON.stringify(rule.effects),
      all_read_only: rule.allReadOnly,
      created_at: now,
      updated_at: now,
    });
  }
}
