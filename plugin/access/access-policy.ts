/**
 * What one portal customer may do, whatever the portal version: the modules (in menu order),
 * per module the flags, record scope, visible fields and list columns, the quick-action buttons,
 * the conditional rules and the owner of what they create. Version 2 builds it from the
 * contact's profile; version 1 from the classic settings (one implicit profile for everyone).
 */
import type { FieldDefinition, ModuleDefinition, OwnerRef } from '../host-contract/index.js';
import type { ConditionalRule, HomeButton, ModuleTool, RecordScope } from '../profiles/profile-document.js';

export type VisibleFieldAccess = 'readonly' | 'readwrite';

export interface ModulePolicy {
  readonly definition: ModuleDefinition;
  readonly name: string;
  readonly view: boolean;
  readonly create: boolean;
  readonly edit: boolean;
  readonly delete: boolean;
  readonly scope: RecordScope;
  /** A public catalogue (FAQ, Products): every portal user reads it; nobody writes it. */
  readonly catalogue: boolean;
  /** The fields the customer sees, in the module's order; hidden ones are absent. */
  readonly fields: readonly (FieldDefinition & { readonly access: VisibleFieldAccess })[];
  /** The list columns, in order (always visible fields). */
  readonly listColumns: readonly string[];
  readonly tools: Readonly<Record<ModuleTool, boolean>>;
}

export interface AccessPolicy {
  /** Where the policy comes from (for caches and logs): version 1 has no profile (id and name null). */
  readonly source: { readonly version: 1 | 2; readonly profileId: number | null; readonly profileName: string | null; readonly stamp: string };
  /** The modules shown on the portal, in menu order. */
  readonly modules: readonly ModulePolicy[];
  /** Only the buttons whose module is shown (and, for `create`, may be created in). */
  readonly buttons: readonly HomeButton[];
  readonly rules: readonly ConditionalRule[];
  /** The owner of records created from the portal (null: the host's default); one the CRM no longer has counts as null (`new-record-owner.ts`). */
  readonly owner: OwnerRef | null;
  /** Whose picklist values the portal offers (the owner user, or v1's selected user); null: every value. */
  readonly picklistUserId: number | null;
  /**
   * The Documents fields the profile hides, whether or not Documents is on the menu: a file shown
   * beside the record it is attached to (the documents tool) shows none of them.
   */
  readonly hiddenDocumentFields: readonly string[];
  /** The Documents fields the profile makes read-only, whether or not Documents is on the menu: an upload's typed title is not written to a read-only title. */
  readonly readOnlyDocumentFields: readonly string[];
  /**
   * The fields the profile hides, per module, whether or not the module is on the menu: the
   * customer's own contact and company still name their references where Contacts or Accounts is
   * not theirs to view, never by a field the profile hides.
   */
  readonly hiddenFields: Readonly<Record<string, readonly string[]>>;
}

/** Field types whose values are long texts: never default list columns. */
const LONG_TEXT = new Set(['textarea', 'multipicklist']);

/** The default list columns of a module: its label field, then up to four short fields. */
export function defaultListColumns(definition: ModuleDefinition, visible: ReadonlySet<string>): string[] {
  const columns = visible.has(definition.labelField) ? [definition.labelField] : [];
  for (const field of definition.fields) {
    if (columns.length >= 5) break;
    if (field.name !== definition.labelField && visible.has(field.name) && !LONG_TEXT.has(field.type)) columns.push(field.name);
  }
  return columns;
}

/** Buttons pointing at a module the policy does not show (or cannot create in) are dropped. */
export function allowedButtons(buttons: readonly HomeButton[], modules: readonly ModulePolicy[]): HomeButton[] {
  return buttons.filter((button) => {
    const module = modules.find((m) => m.name === button.module);
    if (!module || !module.view) return false;
    return button.action !== 'create' || module.create;
  });
}
