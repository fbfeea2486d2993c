/**
 * Which modules of the host a portal profile may offer. For now a module is portal-eligible
 * when it takes part in at least one relation with Contacts or Accounts (a reference field or a
 * related list, either side) in the host's module registry that is a path to a customer
 * (`isCustomerPath`, the predicate the record scope follows: a reference field that may point at
 * several modules is none, so a module related to customers through such fields only would reach
 * nobody and is not offered); Contacts and Accounts themselves are eligible, and so is the base
 * portal set (tickets, FAQ, documents) that every portal offers, even where the host gives FAQ no
 * relation to its customers.
 *
 * Read from the registry on every call: a module that gains or loses such a relation at run
 * time is (or stops being) eligible at once. Privileges stored for a module that is no longer
 * eligible are kept, but nothing offers them.
 */
import { inject, injectable } from 'inversify';
import { HostModuleRegistry, type ModuleDefinition, type RelationDefinition } from '../host-contract/index.js';

/** The modules a portal always offers; without the Business Portal licence, the only ones. */
export const BASE_PORTAL_MODULES: readonly string[] = ['HelpDesk', 'Faq', 'Documents', 'Contacts', 'Accounts'];

/** A catalogue's records on the portal: those whose `field` equals `value`. */
export interface PublicCatalogue {
  readonly field: string;
  readonly value: string | boolean;
}

/**
 * Catalogues every portal user may read whatever their company (no relation to customers in the
 * originals): FAQ (published entries) and Products (active ones). They are eligible without a
 * relation, read-only on the portal, and their record scope is the whole catalogue.
 */
export const PUBLIC_CATALOGUES: Readonly<Record<string, PublicCatalogue>> = Object.freeze(
  // No prototype: `name in PUBLIC_CATALOGUES` and `PUBLIC_CATALOGUES[name]` see these entries only, never `constructor` or `toString`.
  Object.assign(Object.create(null) as Record<string, PublicCatalogue>, {
    Faq: { field: 'status', value: 'Published' },
    Products: { field: 'active', value: true },
  }),
);

/** The modules whose relations make another module eligible. */
export const CUSTOMER_MODULES: readonly string[] = ['Contacts', 'Accounts'];

/**
 * Whether a relation says which record it reaches: a related list, or a reference whose field
 * points at one module. A field that may point at several (Contacts or Accounts) holds a bare id
 * the contract places in none of them — the reference host numbers each module's records on their
 * own, so a contact's id is also some account's — and so ties a record to no customer. The one
 * answer to "is this a path to a customer": the record scope follows only these relations, and
 * only these make a module eligible.
 */
export function isCustomerPath(registry: HostModuleRegistry, relation: RelationDefinition): boolean {
  if (relation.kind !== 'reference') return true;
  const field = registry.module(relation.module)?.fields.find((f) => f.name === relation.field);
  return field?.referenceModules?.length === 1;
}

/**
 * Why a module is not eligible (stable codes; the pages translate them). `multi-target-reference-only`:
 * related to Contacts / Accounts, but only through reference fields that may point at several modules.
 */
export type NotEligibleReason = 'unknown-module' | 'no-customer-relation' | 'multi-target-reference-only';

export const ModuleEligibility = Symbol.for('business-portal.ModuleEligibility');
export interface ModuleEligibility {
  /** The eligible modules now, in the registry's order. */
  eligibleModules(): readonly ModuleDefinition[];
  isEligible(module: string): boolean;
  /** Null when the module is eligible. */
  reasonNotEligible(module: string): NotEligibleReason | null;
  /** The modules of the host that are not eligible now, each with its reason. */
  notEligible(): readonly { readonly module: ModuleDefinition; readonly reason: NotEligibleReason }[];
}

@injectable()
export class RegistryModuleEligibility implements ModuleEligibility {
  constructor(@inject(HostModuleRegistry) private readonly registry: HostModuleRegistry) {}

  eligibleModules(): readonly ModuleDefinition[] {
    return this.registry.modules().filter((module) => this.reasonNotEligible(module.name) === null);
  }

  isEligible(module: string): boolean {
    return this.reasonNotEligible(module) === null;
  }

  reasonNotEligible(module: string): NotEligibleReason | null {
    if (!this.registry.module(module)) return 'unknown-module';
    if (CUSTOMER_MODULES.includes(module) || BASE_PORTAL_MODULES.includes(module) || module in PUBLIC_CATALOGUES) return null;
    const related = this.registry.relations(module).filter((relation) => CUSTOMER_MODULES.includes(relation.module === module ? relation.relatedModule : relation.module));
    if (related.some((relation) => isCustomerPath(this.registry, relation))) return null;
    return related.length > 0 ? 'multi-target-reference-only' : 'no-customer-relation';
  }

  notEligible(): readonly { readonly module: ModuleDefinition; readonly reason: NotEligibleReason }[] {
    return this.registry
      .modules()
      .map((module) => ({ module, reason: this.reasonNotEligible(module.name) }))
      .filter((entry): entry is { module: ModuleDefinition; reason: NotEligibleReason } => entry.reason !== null);
  }
}
