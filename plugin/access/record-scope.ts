/**
 * Record scope as a host query condition (compiled to SQL by the host; never load-then-filter).
 * A module's records reach a customer through its relations to Contacts or Accounts:
 * - a reference field of the module to Contacts (`HelpDesk.contact_id = me`) or to Accounts
 *   (`account_id IN (my account [and its subsidiaries])`);
 * - a reference field of Contacts / Accounts to the module (my contact's `x_id`, my accounts' `x_id`);
 * - a related list with Contacts or Accounts (`linkedThrough`).
 * A reference field that may point at several modules is no path (`isCustomerPath`, which decides
 * eligibility too: a module whose only relations are such fields is not eligible).
 * Scope `contact` follows the paths to Contacts only — for a module that has none (related to
 * Accounts only) it follows the paths to the contact's own account, never to subsidiaries;
 * `account` adds the paths to the contact's account; `account-and-subsidiaries` to the account
 * and every account below it (parent chain, depth-limited). Contacts and Accounts themselves:
 * the contact (and the contacts of the scope's accounts); the scope's accounts.
 * Public catalogues (FAQ, Products) are read by everybody: their condition only filters
 * unpublished entries. A module with no path at all yields no record.
 */
import type { CrmRecord, HostModuleRegistry, HostRecords, RecordCondition, RelationDefinition } from '../host-contract/index.js';
import { isCustomerPath, PUBLIC_CATALOGUES } from '../eligibility/module-eligibility.js';
import type { RecordScope } from '../profiles/profile-document.js';

/** How deep subsidiaries of subsidiaries are followed, and how many accounts at most. */
export const MAX_SUBSIDIARY_DEPTH = 10;
export const MAX_SCOPE_ACCOUNTS = 1000;

export const NOTHING: RecordCondition = { field: 'id', op: 'in', value: [] };

/** The customer a scope is computed for; account sets are computed once per request. */
export class ScopeSubject {
  private subsidiaries: Promise<readonly number[]> | undefined;

  constructor(
    readonly contact: CrmRecord,
    private readonly records: HostRecords,
    private readonly registry: HostModuleRegistry,
  ) {}

  get contactId(): number {
    return this.contact.id;
  }

  /** The contact's own account (`Contacts.account_id`), or null. */
  get accountId(): number | null {
    const field = accountReferenceOf(this.registry, 'Contacts');
    const value = field ? this.contact.values[field] : null;
    return typeof value === 'number' && value > 0 ? value : null;
  }

  accountIds(scope: RecordScope): Promise<readonly number[]> {
    const own = this.accountId;
    if (own === null) return Promise.resolve([]);
    if (scope !== 'account-and-subsidiaries') return Promise.resolve([own]);
    this.subsidiaries ??= this.withSubsidiaries(own);
    return this.subsidiaries;
  }

  /** The account and the accounts below it, breadth first, one indexed query per level. */
  private async withSubsidiaries(root: number): Promise<readonly number[]> {
    const parentField = referenceFieldTo(this.registry, 'Accounts', 'Accounts', 'parent_id');
    const all = new Set<number>([root]);
    if (!parentField) return [...all];
    let frontier = [root];
    for (let depth = 0; depth < MAX_SUBSIDIARY_DEPTH && frontier.length > 0 && all.size < MAX_SCOPE_ACCOUNTS; depth += 1) {
      const page = await this.records.query('Accounts', {
        where: { field: parentField, op: 'in', value: frontier },
        fields: ['id'],
        limit: MAX_SCOPE_ACCOUNTS,
      });
      frontier = page.rows.map((row) => row.id).filter((id) => !all.has(id));
      for (const id of frontier) all.add(id);
    }
    return [...all].slice(0, MAX_SCOPE_ACCOUNTS);
  }
}

/**
 * The reference field of `module` that points at `target`: `standard` (the field the conformance
 * suite asks of every host, e.g. `Contacts.account_id`) when it is one, else the only one. The
 * contract does not order relations, so among several others none is guessed.
 */
export function referenceFieldTo(registry: HostModuleRegistry, module: string, target: string, standard: string): string | undefined {
  const fields = registry.relations(module).flatMap((r) => (r.kind === 'reference' && r.module === module && r.relatedModule === target && r.field ? [r.field] : []));
  if (fields.includes(standard)) return standard;
  return fields.length === 1 ? fields[0] : undefined;
}

/** The reference field of `module` that names its Accounts record (`account_id`), if any. */
export function accountReferenceOf(registry: HostModuleRegistry, module: string): string | undefined {
  return referenceFieldTo(registry, module, 'Accounts', 'account_id');
}

/**
 * Whether files can be attached to `module`'s records: the host keeps them as Documents linked
 * through a related list. A profile's documents tool is in force only on such a module.
 */
export function holdsDocuments(registry: HostModuleRegistry, module: string): boolean {
  return documentLists(registry, module).length > 0;
}

/** The related lists through which files (Documents) are attached to `module`'s records; none for Documents itself. */
export function documentLists(registry: HostModuleRegistry, module: string): RelationDefinition[] {
  return module === 'Documents' ? [] : registry.relations(module).filter((r) => r.kind === 'related-list' && (r.module === 'Documents' || r.relatedModule === 'Documents'));
}

/** Whether a module has any path to Contacts (then `contact` scope does not fall back to the account). */
function hasContactPath(registry: HostModuleRegistry, module: string): boolean {
  return registry
    .relations(module)
    .some((r) => ((r.module === module && r.relatedModule === 'Contacts') || (r.module === 'Contacts' && r.relatedModule === module)) && isCustomerPath(registry, r));
}

const idIn = (ids: readonly number[]): RecordCondition => ({ field: 'id', op: 'in', value: [...ids] });
const anyOf = (conditions: RecordCondition[]): RecordCondition => (conditions.length === 0 ? NOTHING : conditions.length === 1 ? conditions[0]! : { or: conditions });

/** The condition that selects the records of `module` a subject may reach under `scope`. */
export async function scopeCondition(registry: HostModuleRegistry, records: HostRecords, module: string, scope: RecordScope, subject: ScopeSubject): Promise<RecordCondition> {
  const catalogue = PUBLIC_CATALOGUES[module];
  if (catalogue) return registry.module(module)?.fields.some((f) => f.name === catalogue.field) ? { field: catalogue.field, op: 'eq', value: catalogue.value } : { and: [] };

  // Contacts itself: scope `contact` is the contact's own record, never their account's contacts.
  const contactPaths = module === 'Contacts' || hasContactPath(registry, module);
  const accounts = scope === 'contact' ? (contactPaths ? [] : await subject.accountIds('account')) : await subject.accountIds(scope);

  if (module === 'Accounts') return idIn(await subject.accountIds(scope === 'contact' ? 'account' : scope));

  const paths: RecordCondition[] = [];
  if (module === 'Contacts') paths.push(idIn([subject.contactId]));
  for (const relation of registry.relations(module)) {
    if (!isCustomerPath(registry, relation)) continue;
    const otherSide = relation.module === module ? relation.relatedModule : relation.module;
    const mine = relation.module === module;
    if (otherSide === 'Contacts' && module !== 'Contacts') {
      if (relation.kind === 'related-list') paths.push({ linkedThrough: relation.id, ids: [subject.contactId] });
      else if (mine && relation.field) paths.push({ field: relation.field, op: 'eq', value: subject.contactId });
      else if (relation.field) {
        const target = subject.contact.values[relation.field];
        if (typeof target === 'number') paths.push(idIn([target]));
      }
    } else if (otherSide === 'Accounts' && accounts.length > 0) {
      if (relation.kind === 'related-list') paths.push({ linkedThrough: relation.id, ids: [...accounts] });
      else if (mine && relation.field) paths.push({ field: relation.field, op: 'in', value: [...accounts] });
      else if (relation.field) {
        const page = await records.query('Accounts', { where: idIn(accounts), fields: [relation.field], limit: accounts.length });
        const targets = page.rows.map((row) => row.values[relation.field!]).filter((v): v is number => typeof v === 'number');
        if (targets.length > 0) paths.push(idIn(targets));
      }
    }
  }
  return anyOf(paths);
}
