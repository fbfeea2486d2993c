/**
 * The reference host's module registry: metadata in the database (so several host processes
 * share it), a synchronous in-memory cache for reads, and real tables per module.
 *
 * Every change bumps `crm_registry_revision` in the same transaction as the metadata; `sync()`
 * compares that revision with the cached one, reloads when it moved and emits the events for
 * the differences. Local changes go through the same reload, so the events a process sees are
 * the same whether it made the change itself or another process did.
 */
import { QueryTypes, Transaction, type Sequelize } from 'sequelize';
import {
  UnknownFieldError,
  type FieldDefinition,
  type HostLogger,
  type HostModuleRegistry,
  type LocalizedText,
  type ModuleDefinition,
  type ModuleRegistryEvents,
  type RelationDefinition,
  type Unsubscribe,
} from '../../plugin/host-contract/index.js';
import type { OpenedDatabase } from '../database.js';
import {
  ModuleDefinitionError,
  UnknownModuleError,
  localizedText,
  validateField,
  validateModule,
  validateRelationShape,
} from './module-definition-validation.js';
import { addFieldColumn, createModuleTable, dropFieldColumn, dropModuleTable, moduleTableExists, tableOf } from './module-tables.js';
import { publicDefinition } from './host-managed-fields.js';
import { TypedEvents } from './typed-events.js';

interface Snapshot {
  readonly revision: number;
  readonly modules: ReadonlyMap<string, ModuleDefinition>;
  /** Stored related lists, in creation order. */
  readonly relatedLists: readonly RelationDefinition[];
  /** Derived reference relations followed by the related lists. */
  readonly relations: readonly RelationDefinition[];
}

type PendingEvent = { [E in keyof ModuleRegistryEvents]: { readonly event: E; readonly payload: ModuleRegistryEvents[E] } }[keyof ModuleRegistryEvents];

/** A change in steps: DDL before the metadata (undone if the metadata fails), the metadata, DDL after it. */
interface ChangePlan {
  before?(transaction?: Transaction): Promise<void>;
  undoBefore?(): Promise<void>;
  metadata(transaction: Transaction): Promise<void>;
  after?(transaction?: Transaction): Promise<void>;
}

function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

/** Reference relation ids: `Module.field`, or `Module.field:Target` when the field may point at several modules. */
function referenceRelationId(module: string, field: FieldDefinition, target: string): string {
  return (field.referenceModules?.length ?? 0) > 1 ? `${module}.${field.name}:${target}` : `${module}.${field.name}`;
}

function deriveRelations(modules: ReadonlyMap<string, ModuleDefinition>, relatedLists: readonly RelationDefinition[]): RelationDefinition[] {
  const relations: RelationDefinition[] = [];
  for (const module of modules.values()) {
    for (const field of module.fields) {
      if (field.type !== 'reference') continue;
      for (const target of field.referenceModules ?? []) {
        relations.push(
          Object.freeze({ id: referenceRelationId(module.name, field, target), kind: 'reference', module: module.name, relatedModule: target, field: field.name, label: field.label }),
        );
      }
    }
  }
  return [...relations, ...relatedLists];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class SqlModuleRegistry implements HostModuleRegistry {
  private snapshot: Snapshot = { revision: -1, modules: new Map(), relatedLists: [], relations: [] };
  private publicView?: { readonly of: Snapshot; readonly modules: ReadonlyMap<string, ModuleDefinition> };
  private readonly events: TypedEvents<ModuleRegistryEvents>;
  /** Serialises this process's changes and reloads, so that each diff is computed once. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sequelize: Sequelize;

  private constructor(
    readonly db: OpenedDatabase,
    readonly logger: HostLogger,
  ) {
    this.sequelize = db.sequelize;
    this.events = new TypedEvents<ModuleRegistryEvents>(logger, 'module registry');
  }

  /** Loads the metadata (the host migrations must have run). */
  static async open(db: OpenedDatabase, logger: HostLogger): Promise<SqlModuleRegistry> {
    const registry = new SqlModuleRegistry(db, logger);
    registry.snapshot = await registry.load();
    return registry;
  }

  // ───────────────────────────── reads (from the cache) ─────────────────────────────

  modules(): readonly ModuleDefinition[] {
    return [...this.publicModules().values()];
  }

  module(name: string): ModuleDefinition | undefined {
    return this.publicModules().get(name);
  }

  /** The modules as the contract shows them (without host-managed fields), computed once per snapshot. */
  private publicModules(): ReadonlyMap<string, ModuleDefinition> {
    if (this.publicView?.of !== this.snapshot) {
      this.publicView = { of: this.snapshot, modules: new Map([...this.snapshot.modules].map(([name, m]) => [name, publicDefinition(m)])) };
    }
    return this.publicView.modules;
  }

  relations(module?: string): readonly RelationDefinition[] {
    const all = this.snapshot.relations;
    return module === undefined ? all : all.filter((r) => r.module === module || r.relatedModule === module);
  }

  relation(id: string): RelationDefinition | undefined {
    return this.snapshot.relations.find((r) => r.id === id);
  }

  field(module: string, field: string): FieldDefinition | undefined {
    return this.snapshot.modules.get(module)?.fields.find((f) => f.name === field);
  }

  /** The metadata revision this cache reflects. */
  revision(): number {
    return this.snapshot.revision;
  }

  /** The table of a module's records. */
  tableName(module: string): string {
    if (!this.snapshot.modules.has(module)) throw new UnknownModuleError(module);
    return tableOf(module);
  }

  /** The column of a field (its name); refuses what is not a field of the module. */
  columnOf(module: string, field: string): string {
    if (!this.field(module, field)) {
      if (!this.snapshot.modules.has(module)) throw new UnknownModuleError(module);
      throw new UnknownFieldError(module, field);
    }
    return field;
  }

  async picklistValues(module: string, field: string, userId?: number): Promise<readonly string[]> {
    const definition = this.field(module, field);
    if (!definition) {
      if (!this.snapshot.modules.has(module)) throw new UnknownModuleError(module);
      throw new UnknownFieldError(module, field);
    }
    const all = definition.picklistValues ?? [];
    if (userId === undefined) return all;
    // An unknown user, a user without a role and a field with no rows for the role all come back
    // empty, and none is restricted.
    const allowed = (await this.roleValues(userId, module, field)).get(field);
    return allowed ? all.filter((value) => allowed.has(value)) : all;
  }

  /** Batches of role values being gathered, per user and module. */
  private readonly roleValueBatches = new Map<string, { readonly fields: Set<string>; readonly values: Promise<Map<string, Set<string>>> }>();

  /**
   * The role's allowed values of a user's module, by field. A page asks for several picklists at
   * once (a form, a list's search row): the fields asked for in the same turn of the event loop
   * are read by one statement.
   */
  private roleValues(userId: number, module: string, field: string): Promise<Map<string, Set<string>>> {
    const key = `${userId}\u0000${module}`;
    let batch = this.roleValueBatches.get(key);
    if (!batch) {
      const fields = new Set<string>();
      const values = Promise.resolve().then(async () => {
        this.roleValueBatches.delete(key);
        const names = [...fields];
        const bind: Record<string, unknown> = { id: userId, module };
        names.forEach((name, index) => (bind[`f${index}`] = name));
        const rows = await this.sequelize.query<{ field: string; value: string }>(
          `SELECT r.field, r.value FROM crm_picklist_roles r JOIN crm_users u ON u.role_id = r.role_id
            WHERE u.id = $id AND r.module = $module AND r.field IN (${names.map((_, index) => `$f${index}`).join(', ')})`,
          { bind, type: QueryTypes.SELECT },
        );
        const byField = new Map<string, Set<string>>();
        for (const row of rows) {
          let set = byField.get(row.field);
          if (!set) byField.set(row.field, (set = new Set()));
          set.add(row.value);
        }
        return byField;
      });
      batch = { fields, values };
      this.roleValueBatches.set(key, batch);
    }
    batch.fields.add(field);
    return batch.values;
  }

  /** Restricts the values of a picklist for a role (host administration; `null` lifts the restriction). */
  async setPicklistRoleValues(module: string, field: string, roleId: number, values: readonly string[] | null): Promise<void> {
    const definition = this.field(module, field);
    if (!definition || (definition.type !== 'picklist' && definition.type !== 'multipicklist')) {
      throw new ModuleDefinitionError(`${module}.${field} is not a picklist field`);
    }
    const unknown = (values ?? []).filter((v) => !definition.picklistValues?.includes(v));
    if (unknown.length > 0) throw new ModuleDefinitionError(`${module}.${field} has no value "${unknown[0]}"`);
    await this.sequelize.transaction(this.writeTransactionOptions(), async (transaction) => {
      await this.sequelize.query('DELETE FROM crm_picklist_roles WHERE module = $module AND field = $field AND role_id = $role', {
        bind: { module, field, role: roleId },
        transaction,
      });
      if (values && values.length > 0) {
        await this.sequelize.getQueryInterface().bulkInsert(
          'crm_picklist_roles',
          [...new Set(values)].map((value) => ({ module, field, role_id: roleId, value })),
          { transaction },
        );
      }
    });
  }

  on<E extends keyof ModuleRegistryEvents>(event: E, listener: (payload: ModuleRegistryEvents[E]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  // ───────────────────────────── sharing between processes ─────────────────────────────

  /** Reloads when the stored revision moved (another process or the CLI changed something) and emits the differences. */
  async sync(): Promise<boolean> {
    const pending = await this.exclusive(async () => {
      const revision = await this.storedRevision();
      return revision === this.snapshot.revision ? null : this.reload();
    });
    if (!pending) return false;
    await this.emitAll(pending);
    return true;
  }

  /**
   * Calls `sync()` every `intervalMs` (the timer never keeps the process alive). `track` is handed
   * each sync the timer starts, so that a shutdown can wait for one under way before it closes the
   * database.
   */
  watch(intervalMs = 2000, track: (run: Promise<unknown>) => void = () => undefined): Unsubscribe {
    const timer = setInterval(() => {
      track(this.sync().catch((error: unknown) => this.logger.warn('module registry: sync failed', { error: error instanceof Error ? error.message : String(error) })));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  // ───────────────────────────── changes ─────────────────────────────

  async registerModule(definition: ModuleDefinition): Promise<void> {
    await this.change(async () => {
      const module = validateModule(definition, (name) => this.snapshot.modules.has(name));
      const clash = [...this.snapshot.modules.keys()].find((name) => name.toLowerCase() === module.name.toLowerCase());
      if (clash) throw new ModuleDefinitionError(`Module ${module.name} already exists${clash !== module.name ? ` (as ${clash})` : ''}`);
      if (await moduleTableExists(this.sequelize, module.name)) {
        throw new ModuleDefinitionError(`Module ${module.name} cannot be created: the table ${tableOf(module.name)} already exists`);
      }
      return {
        before: (transaction) => createModuleTable(this.sequelize, this.db.dialect, module, transaction),
        undoBefore: () => dropModuleTable(this.sequelize, module.name),
        metadata: async (transaction) => {
          const [{ next }] = await this.sequelize.query<{ next: number | string }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM crm_modules', {
            type: QueryTypes.SELECT,
            transaction,
          });
          await this.sequelize.getQueryInterface().bulkInsert(
            'crm_modules',
            [
              {
                name: module.name,
                label: JSON.stringify(module.label),
                singular_label: JSON.stringify(module.singularLabel),
                custom: module.custom,
                label_field: module.labelField,
                seq: Number(next),
              },
            ],
            { transaction },
          );
          await this.sequelize.getQueryInterface().bulkInsert(
            'crm_fields',
            module.fields.map((field, index) => this.fieldRow(module.name, field, index + 1)),
            { transaction },
          );
        },
      };
    });
  }

  async removeModule(name: string): Promise<void> {
    await this.change(async () => {
      if (!this.snapshot.modules.has(name)) throw new UnknownModuleError(name);
      const referencing = this.snapshot.relations.filter((r) => r.kind === 'reference' && r.relatedModule === name && r.module !== name);
      if (referencing.length > 0) {
        throw new ModuleDefinitionError(`Module ${name} is referenced by ${referencing.map((r) => `${r.module}.${r.field}`).join(', ')}: remove those first`);
      }
      const lists = this.snapshot.relatedLists.filter((r) => r.module === name || r.relatedModule === name).map((r) => r.id);
      return {
        metadata: async (transaction) => {
          const bind = { module: name };
          if (lists.length > 0) {
            await this.sequelize.query('DELETE FROM crm_relation_links WHERE relation_id IN (:ids)', { replacements: { ids: lists }, transaction });
            await this.sequelize.query('DELETE FROM crm_relations WHERE id IN (:ids)', { replacements: { ids: lists }, transaction });
          }
          await this.sequelize.query('DELETE FROM crm_comments WHERE module = $module', { bind, transaction });
          await this.sequelize.query('DELETE FROM crm_picklist_roles WHERE module = $module', { bind, transaction });
          await this.sequelize.query('DELETE FROM crm_fields WHERE module = $module', { bind, transaction });
          await this.sequelize.query('DELETE FROM crm_modules WHERE name = $module', { bind, transaction });
        },
        after: (transaction) => dropModuleTable(this.sequelize, name, transaction),
      };
    });
  }

  async addField(module: string, field: FieldDefinition): Promise<void> {
    await this.change(async () => this.addFieldPlan(module, field));
  }

  async removeField(module: string, field: string): Promise<void> {
    await this.change(async () => this.removeFieldPlan(module, field));
  }

  /**
   * A `related-list` relation is stored (id `Module~Related`). A `reference` relation is a reference
   * field: it is created (labelled after the related module) or, when the field exists, gains the target.
   */
  async addRelation(relation: RelationDefinition): Promise<void> {
    await this.change(async () => {
      const shape = validateRelationShape(relation);
      for (const name of [shape.module, shape.relatedModule]) if (!this.snapshot.modules.has(name)) throw new UnknownModuleError(name);
      const related = this.snapshot.modules.get(shape.relatedModule)!;

      if (shape.kind === 'related-list') {
        const expected = `${shape.module}~${shape.relatedModule}`;
        if (shape.id !== expected) throw new ModuleDefinitionError(`A related list between ${shape.module} and ${shape.relatedModule} has the id "${expected}"`);
        const existing = this.snapshot.relatedLists.find(
          (r) => (r.module === shape.module && r.relatedModule === shape.relatedModule) || (r.module === shape.relatedModule && r.relatedModule === shape.module),
        );
        if (existing) throw new ModuleDefinitionError(`Relation ${existing.id} already links ${shape.module} and ${shape.relatedModule}`);
        return {
          metadata: async (transaction) => {
            const [{ next }] = await this.sequelize.query<{ next: number | string }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM crm_relations', {
              type: QueryTypes.SELECT,
              transaction,
            });
            await this.sequelize.getQueryInterface().bulkInsert(
              'crm_relations',
              [
                {
                  id: shape.id,
                  kind: 'related-list',
                  module: shape.module,
                  related_module: shape.relatedModule,
                  label: shape.label ? JSON.stringify(shape.label) : null,
                  seq: Number(next),
                },
              ],
              { transaction },
            );
          },
        };
      }

      const fieldName = shape.field!;
      const existing = this.field(shape.module, fieldName);
      if (!existing) {
        if (shape.id !== `${shape.module}.${fieldName}`) throw new ModuleDefinitionError(`The relation of ${shape.module}.${fieldName} has the id "${shape.module}.${fieldName}"`);
        const label = shape.label ?? related.singularLabel;
        return this.addFieldPlan(shape.module, { name: fieldName, label, type: 'reference', mandatory: false, referenceModules: [shape.relatedModule] });
      }
      if (existing.type !== 'reference') throw new ModuleDefinitionError(`Field ${shape.module}.${fieldName} exists and is not a reference field`);
      if (existing.referenceModules?.includes(shape.relatedModule)) {
        throw new ModuleDefinitionError(`Field ${shape.module}.${fieldName} already refers to ${shape.relatedModule}`);
      }
      const targets = [...(existing.referenceModules ?? []), shape.relatedModule];
      if (shape.id !== `${shape.module}.${fieldName}:${shape.relatedModule}`) {
        throw new ModuleDefinitionError(`The relation of ${shape.module}.${fieldName} to ${shape.relatedModule} has the id "${shape.module}.${fieldName}:${shape.relatedModule}"`);
      }
      return { metadata: (transaction) => this.setReferenceTargets(shape.module, fieldName, targets, transaction) };
    });
  }

  /** Removes a related list (and its links) or a reference: the target of a field, or the field itself when it was its only target. */
  async removeRelation(id: string): Promise<void> {
    await this.change(async () => {
      const relation = this.relation(id);
      if (!relation) throw new ModuleDefinitionError(`Unknown relation "${String(id).slice(0, 100)}"`);
      if (relation.kind === 'related-list') {
        return {
          metadata: async (transaction) => {
            await this.sequelize.query('DELETE FROM crm_relation_links WHERE relation_id = $id', { bind: { id }, transaction });
            await this.sequelize.query('DELETE FROM crm_relations WHERE id = $id', { bind: { id }, transaction });
          },
        };
      }
      const field = this.field(relation.module, relation.field!)!;
      const targets = (field.referenceModules ?? []).filter((m) => m !== relation.relatedModule);
      if (targets.length === 0) return this.removeFieldPlan(relation.module, field.name);
      return { metadata: (transaction) => this.setReferenceTargets(relation.module, field.name, targets, transaction) };
    });
  }

  // ───────────────────────────── internals ─────────────────────────────

  private addFieldPlan(module: string, input: FieldDefinition): ChangePlan {
    const definition = this.snapshot.modules.get(module);
    if (!definition) throw new UnknownModuleError(module);
    const field = validateField(input, module, (name) => this.snapshot.modules.has(name));
    if (definition.fields.some((f) => f.name === field.name)) throw new ModuleDefinitionError(`Module ${module} already has the field "${field.name}"`);
    return {
      before: (transaction) => addFieldColumn(this.sequelize, this.db.dialect, { ...definition, fields: [...definition.fields, field] }, field, transaction),
      undoBefore: () => dropFieldColumn(this.sequelize, this.db.dialect, module, field),
      metadata: async (transaction) => {
        const [{ next }] = await this.sequelize.query<{ next: number | string }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM crm_fields WHERE module = $module', {
          bind: { module },
          type: QueryTypes.SELECT,
          transaction,
        });
        await this.sequelize.getQueryInterface().bulkInsert('crm_fields', [this.fieldRow(module, field, Number(next))], { transaction });
      },
    };
  }

  private removeFieldPlan(module: string, name: string): ChangePlan {
    const definition = this.snapshot.modules.get(module);
    if (!definition) throw new UnknownModuleError(module);
    const field = definition.fields.find((f) => f.name === name);
    if (!field) throw new UnknownFieldError(module, name);
    if (definition.labelField === name) throw new ModuleDefinitionError(`Field ${module}.${name} names the module's records (labelField) and cannot be removed`);
    return {
      metadata: async (transaction) => {
        const bind = { module, field: name };
        await this.sequelize.query('DELETE FROM crm_picklist_roles WHERE module = $module AND field = $field', { bind, transaction });
        await this.sequelize.query('DELETE FROM crm_fields WHERE module = $module AND name = $field', { bind, transaction });
      },
      after: (transaction) => dropFieldColumn(this.sequelize, this.db.dialect, module, field, transaction),
    };
  }

  private async setReferenceTargets(module: string, field: string, targets: readonly string[], transaction: Transaction): Promise<void> {
    await this.sequelize.query('UPDATE crm_fields SET reference_modules = $targets WHERE module = $module AND name = $field', {
      bind: { targets: JSON.stringify(targets), module, field },
      transaction,
    });
  }

  private fieldRow(module: string, field: FieldDefinition, seq: number): Record<string, unknown> {
    return {
      module,
      name: field.name,
      label: JSON.stringify(field.label),
      type: field.type,
      mandatory: field.mandatory,
      max_length: field.maxLength ?? null,
      picklist_values: field.picklistValues ? JSON.stringify(field.picklistValues) : null,
      picklist_labels: field.picklistLabels ? JSON.stringify(field.picklistLabels) : null,
      reference_modules: field.referenceModules ? JSON.stringify(field.referenceModules) : null,
      seq,
    };
  }

  private writeTransactionOptions(): { type: Transaction.TYPES } {
    // SQLite: take the write lock at BEGIN, or a reader that later writes fails with SQLITE_BUSY.
    return { type: Transaction.TYPES.IMMEDIATE };
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Plans a change against fresh metadata, runs it and reloads. PostgreSQL and SQLite run the DDL
   * in the metadata's transaction; MariaDB commits DDL implicitly, so there the DDL runs around
   * the transaction and is undone by hand when the metadata fails.
   */
  private async change(plan: () => Promise<ChangePlan>): Promise<void> {
    const pending = await this.exclusive(async () => {
      const events = await this.reload();
      let steps: ChangePlan;
      try {
        steps = await plan();
      } catch (error) {
        await this.emitAll(events);
        throw error;
      }
      const bump = (transaction: Transaction) =>
        this.sequelize.query('UPDATE crm_registry_revision SET revision = revision + 1 WHERE id = 1', { transaction });
      if (this.db.dialect !== 'mariadb') {
        await this.sequelize.transaction(this.writeTransactionOptions(), async (transaction) => {
          await steps.before?.(transaction);
          await steps.metadata(transaction);
          await bump(transaction);
          await steps.after?.(transaction);
        });
      } else {
        await steps.before?.();
        try {
          await this.sequelize.transaction(async (transaction) => {
            await steps.metadata(transaction);
            await bump(transaction);
          });
        } catch (error) {
          await steps.undoBefore?.().catch((undo: unknown) =>
            this.logger.error('module registry: could not undo a table change', { error: undo instanceof Error ? undo.message : String(undo) }),
          );
          throw error;
        }
        await steps.after?.().catch((error: unknown) =>
          this.logger.error('module registry: the metadata changed but a table change failed', { error: error instanceof Error ? error.message : String(error) }),
        );
      }
      return [...events, ...(await this.reload())];
    });
    // Outside the queue: a listener may itself change the registry.
    await this.emitAll(pending);
  }

  private async emitAll(events: readonly PendingEvent[]): Promise<void> {
    for (const { event, payload } of events) await this.events.emit(event, payload as never);
  }

  private async storedRevision(): Promise<number> {
    const [row] = await this.sequelize.query<{ revision: number | string }>('SELECT revision FROM crm_registry_revision WHERE id = 1', { type: QueryTypes.SELECT });
    if (!row) throw new Error('The module registry tables are missing: run the host migrations first');
    return Number(row.revision);
  }

  /** Reloads the metadata and returns the events that turn the old cache into the new one. */
  private async reload(): Promise<PendingEvent[]> {
    const previous = this.snapshot;
    const next = await this.load();
    this.snapshot = next;
    return previous.revision === next.revision ? [] : diff(previous, next);
  }

  /** Reads a consistent copy of the metadata (retried when the revision moves while reading). */
  private async load(): Promise<Snapshot> {
    for (let attempt = 0; ; attempt++) {
      const revision = await this.storedRevision();
      const select = <T extends object>(sql: string) => this.sequelize.query<T>(sql, { type: QueryTypes.SELECT });
      const moduleRows = await select<Record<string, unknown>>('SELECT name, label, singular_label, custom, label_field FROM crm_modules ORDER BY seq, name');
      const fieldRows = await select<Record<string, unknown>>(
        'SELECT module, name, label, type, mandatory, max_length, picklist_values, picklist_labels, reference_modules FROM crm_fields ORDER BY module, seq, name',
      );
      const relationRows = await select<Record<string, unknown>>('SELECT id, kind, module, related_module, label FROM crm_relations ORDER BY seq, id');
      if ((await this.storedRevision()) !== revision && attempt < 5) continue;

      const fieldsByModule = new Map<string, FieldDefinition[]>();
      for (const row of fieldRows) {
        const field: FieldDefinition = Object.freeze({
          name: String(row.name),
          label: JSON.parse(String(row.label)) as LocalizedText,
          type: row.type as FieldDefinition['type'],
          mandatory: toBoolean(row.mandatory),
          ...(row.max_length !== null && row.max_length !== undefined ? { maxLength: Number(row.max_length) } : {}),
          ...(row.picklist_values ? { picklistValues: Object.freeze(JSON.parse(String(row.picklist_values)) as string[]) } : {}),
          ...(row.picklist_labels ? { picklistLabels: Object.freeze(JSON.parse(String(row.picklist_labels)) as Record<string, LocalizedText>) } : {}),
          ...(row.reference_modules ? { referenceModules: Object.freeze(JSON.parse(String(row.reference_modules)) as string[]) } : {}),
        });
        const list = fieldsByModule.get(String(row.module)) ?? [];
        list.push(field);
        fieldsByModule.set(String(row.module), list);
      }
      const modules = new Map<string, ModuleDefinition>();
      for (const row of moduleRows) {
        const name = String(row.name);
        modules.set(
          name,
          Object.freeze({
            name,
            label: JSON.parse(String(row.label)) as LocalizedText,
            singularLabel: JSON.parse(String(row.singular_label)) as LocalizedText,
            custom: toBoolean(row.custom),
            labelField: String(row.label_field),
            fields: Object.freeze(fieldsByModule.get(name) ?? []),
          }),
        );
      }
      const relatedLists = relationRows.map((row) =>
        Object.freeze({
          id: String(row.id),
          kind: 'related-list' as const,
          module: String(row.module),
          relatedModule: String(row.related_module),
          ...(row.label ? { label: localizedText(JSON.parse(String(row.label)), `Relation ${String(row.id)} label`) } : {}),
        }),
      );
      return { revision, modules, relatedLists, relations: Object.freeze(deriveRelations(modules, relatedLists)) };
    }
  }
}

/** The events that turn `before` into `after`: removals (relations, fields, modules), then additions (modules, fields, relations). */
function diff(before: Snapshot, after: Snapshot): PendingEvent[] {
  const events: PendingEvent[] = [];
  const afterRelations = new Map(after.relations.map((r) => [r.id, r]));
  const beforeRelations = new Map(before.relations.map((r) => [r.id, r]));
  for (const relation of before.relations) {
    const now = afterRelations.get(relation.id);
    if (!now || !same(now, relation)) events.push({ event: 'relation.removed', payload: { relation } });
  }
  for (const [name, module] of before.modules) {
    const now = after.modules.get(name);
    if (!now) continue;
    for (const field of module.fields) {
      if (!now.fields.some((f) => f.name === field.name)) events.push({ event: 'field.removed', payload: { module: name, field: field.name } });
    }
  }
  for (const name of before.modules.keys()) {
    if (!after.modules.has(name)) events.push({ event: 'module.removed', payload: { module: name } });
  }
  for (const [name, module] of after.modules) {
    const then = before.modules.get(name);
    if (!then) {
      events.push({ event: 'module.added', payload: { module: publicDefinition(module) } });
      continue;
    }
    for (const field of module.fields) {
      if (!then.fields.some((f) => f.name === field.name)) events.push({ event: 'field.added', payload: { module: name, field } });
    }
  }
  for (const relation of after.relations) {
    const then = beforeRelations.get(relation.id);
    if (!then || !same(then, relation)) events.push({ event: 'relation.added', payload: { relation } });
  }
  return events;
}
