/**
 * Columns the host keeps in a module's table for its own use (e.g. where a document's bytes are
 * stored). They are never part of the module as the contract shows it: not in `fields`, not
 * readable, writable or searchable through `HostRecords`.
 */
import type { ModuleDefinition } from '../../plugin/host-contract/index.js';

export const HOST_MANAGED_FIELDS: Readonly<Record<string, readonly string[]>> = { Documents: ['storage_key'] };

export function isHostManaged(module: string, field: string): boolean {
  return HOST_MANAGED_FIELDS[module]?.includes(field) ?? false;
}

/** The module as plugins see it: without its host-managed fields. */
export function publicDefinition(module: ModuleDefinition): ModuleDefinition {
  const managed = HOST_MANAGED_FIELDS[module.name];
  return managed ? { ...module, fields: module.fields.filter((f) => !managed.includes(f.name)) } : module;
}
