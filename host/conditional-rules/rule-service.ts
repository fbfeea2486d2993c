/** The CRM's conditional field rules (`crm_conditional_rules`), as the plugin imports them into portal profiles. */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { CrmConditionalRule, HostConditionalRules } from '../../plugin/host-contract/index.js';
import { fromJson, toBoolean, toNumber } from '../schema/row-values.js';

interface RuleRow {
  id: unknown;
  name: string;
  module: string;
  role_ids: unknown;
  group_ids: unknown;
  conditions: unknown;
  effects: unknown;
  all_read_only: unknown;
}

function toRule(row: RuleRow): CrmConditionalRule {
  return Object.freeze({
    id: toNumber(row.id),
    name: row.name,
    module: row.module,
    roleIds: fromJson<number[]>(row.role_ids).map(toNumber),
    groupIds: fromJson<number[]>(row.group_ids).map(toNumber),
    conditions: fromJson<CrmConditionalRule['conditions']>(row.conditions),
    effects: fromJson<CrmConditionalRule['effects']>(row.effects),
    allReadOnly: toBoolean(row.all_read_only),
  });
}

export class SqlConditionalRules implements HostConditionalRules {
  constructor(private readonly sequelize: Sequelize) {}

  async rules(module?: string): Promise<readonly CrmConditionalRule[]> {
    const columns = 'id, name, module, role_ids, group_ids, conditions, effects, all_read_only';
    const rows =
      module === undefined
        ? await this.sequelize.query<RuleRow>(`SELECT ${columns} FROM crm_conditional_rules ORDER BY id`, { type: QueryTypes.SELECT })
        : await this.sequelize.query<RuleRow>(`SELECT ${columns} FROM crm_conditional_rules WHERE module = $module ORDER BY id`, {
            bind: { module },
            type: QueryTypes.SELECT,
          });
    return rows.map(toRule);
  }
}
