/**
 * The SQL of a profile's sections: reading what is stored (raw, not yet matched against the
 * host's modules) and replacing one section inside the caller's transaction. No rules here:
 * `ProfileService` decides what may be written.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase, type OwnerRef } from '../host-contract/index.js';
import { toBoolean, toNumber } from '../lifecycle/sql-values.js';
import {
  BUTTON_ACTIONS,
  BUTTON_COLOURS,
  FIELD_ACCESS,
  NOTIFICATION_KINDS,
  RECORD_SCOPES,
  SMTP_ACCOUNTS,
  TWO_FACTOR_TYPES,
  type ConditionalRule,
  type FieldAccess,
  type GeneralSection,
  type GlobalPrivileges,
  type ButtonText,
  type HomeButton,
  type ModulePrivileges,
  type NotificationKind,
  type NotificationsSection,
  type RecordScope,
} from './profile-document.js';

/** Stored privileges of one module (fields and columns as stored, whatever the host has now). */
export type StoredModule = Omit<ModulePrivileges, 'fields' | 'listColumns'> & {
  readonly fields: ReadonlyMap<string, FieldAccess>;
  readonly listColumns: readonly string[];
};

export interface StoredSections {
  readonly general: GeneralSection;
  readonly notifications: NotificationsSection;
  readonly buttons: readonly HomeButton[];
  readonly rules: readonly ConditionalRule[];
  readonly globals: GlobalPrivileges;
  readonly modules: ReadonlyMap<string, StoredModule>;
}

const templateColumns: Readonly<Record<NotificationKind, string>> = {
  registration: 'template_registration',
  passwordChanged: 'template_password_changed',
  passwordRecovery: 'template_password_recovery',
  newTicket: 'template_new_ticket',
  ticketReply: 'template_ticket_reply',
};

/** The columns of `bp_profiles` that hold sections (copied with the profile). */
export const SECTION_COLUMNS = [
  'owner_kind',
  'owner_id',
  'two_factor_type',
  'two_factor_fallback',
  ...NOTIFICATION_KINDS.map((kind) => templateColumns[kind]),
  'smtp_account',
  'sender_email',
  'sender_name',
  'view_all',
  'edit_all',
] as const;

/** Child tables and their columns besides `id` and `profile_id` (copied with the profile). */
export const CHILD_TABLES: Readonly<Record<string, readonly string[]>> = {
  bp_profile_modules: ['module', 'shown', 'can_view', 'can_create', 'can_edit', 'can_delete', 'record_scope', 'tool_comments', 'tool_documents', 'tool_search', 'tool_export'],
  bp_profile_fields: ['module', 'field', 'access'],
  bp_profile_list_columns: ['module', 'field', 'position'],
  bp_profile_buttons: ['position', 'title', 'description', 'colour', 'icon', 'action', 'module', 'translations'],
  bp_profile_rules: ['position', 'name', 'module', 'origin', 'conditions', 'effects', 'all_read_only'],
};

const oneOf = <T extends string>(values: readonly T[], value: unknown, fallback: T): T => (values.includes(value as T) ? (value as T) : fallback);
const nullableId = (value: unknown): number | null => (value === null || value === undefined ? null : toNumber(value) || null);
const nullableText = (value: unknown): string | null => (value === null || value === undefined || value === '' ? null : String(value));

function parseJson<T>(value: unknown, fallback: T): T {
  try {
    return JSON.parse(String(value)) as T;
  } catch {
    return fallback;
  }
}

type Row = Record<string, unknown>;

/**
 * The most rows one INSERT carries: 40 modules of 200 fields are one statement; a field row takes
 * at most about 250 bytes of SQL, so one statement stays far below MariaDB's 16 MB packet.
 */
const INSERT_ROWS = 10_000;

/** A button's stored translations, as `{ translations }` only when it has some (a document without them stays as it was). */
function buttonTranslations(value: unknown): { translations?: Record<string, ButtonText> } {
  if (value === null || value === undefined || value === '') return {};
  const parsed = parseJson<Record<string, ButtonText> | null>(value, null);
  return parsed && typeof parsed === 'object' && Object.keys(parsed).length > 0 ? { translations: parsed } : {};
}

@injectable()
export class ProfileSectionsStore {
  constructor(@inject(HostDatabase) private readonly database: HostDatabase) {}

  private get sequelize() {
    return this.database.sequelize;
  }

  private select(sql: string, replacements: Record<string, unknown>, transaction?: Transaction): Promise<Row[]> {
    return this.sequelize.query<Row>(sql, { type: QueryTypes.SELECT, replacements, transaction });
  }

  async read(profileId: number, transaction?: Transaction): Promise<StoredSections | null> {
    const [profile] = await this.select(`SELECT ${SECTION_COLUMNS.join(', ')} FROM bp_profiles WHERE id = :profileId`, { profileId }, transaction);
    if (!profile) return null;
    const where = { profileId };
    const moduleRows = await this.select(`SELECT ${CHILD_TABLES.bp_profile_modules!.join(', ')} FROM bp_profile_modules WHERE profile_id = :profileId ORDER BY module`, where, transaction);
    const fieldRows = await this.select('SELECT module, field, access FROM bp_profile_fields WHERE profile_id = :profileId ORDER BY module, field', where, transaction);
    const columnRows = await this.select('SELECT module, field FROM bp_profile_list_columns WHERE profile_id = :profileId ORDER BY module, position, id', where, transaction);
    const buttonRows = await this.select(`SELECT ${CHILD_TABLES.bp_profile_buttons!.join(', ')} FROM bp_profile_buttons WHERE profile_id = :profileId ORDER BY position, id`, where, transaction);
    const ruleRows = await this.select(`SELECT ${CHILD_TABLES.bp_profile_rules!.join(', ')} FROM bp_profile_rules WHERE profile_id = :profileId ORDER BY position, id`, where, transaction);

    const ownerKind = profile.owner_kind;
    const ownerId = nullableId(profile.owner_id);
    const owner: OwnerRef | null = (ownerKind === 'user' || ownerKind === 'group') && ownerId !== null ? { kind: ownerKind, id: ownerId } : null;

    // One pass over each table's rows, grouped by module (filtering them per module was modules × rows).
    const fieldsOf = new Map<string, Map<string, FieldAccess>>();
    for (const row of fieldRows) {
      const module = String(row.module);
      let fields = fieldsOf.get(module);
      if (!fields) fieldsOf.set(module, (fields = new Map()));
      fields.set(String(row.field), oneOf<FieldAccess>(FIELD_ACCESS, row.access, 'hidden'));
    }
    const columnsOf = new Map<string, string[]>();
    for (const row of columnRows) {
      const module = String(row.module);
      let columns = columnsOf.get(module);
      if (!columns) columnsOf.set(module, (columns = []));
      columns.push(String(row.field));
    }

    const modules = new Map<string, StoredModule>();
    for (const row of moduleRows) {
      const module = String(row.module);
      modules.set(module, {
        module,
        shown: toBoolean(row.shown),
        view: toBoolean(row.can_view),
        create: toBoolean(row.can_create),
        edit: toBoolean(row.can_edit),
        delete: toBoolean(row.can_delete),
        scope: oneOf<RecordScope>(RECORD_SCOPES, row.record_scope, 'contact'),
        tools: {
          comments: toBoolean(row.tool_comments),
          documents: toBoolean(row.tool_documents),
          search: toBoolean(row.tool_search),
          export: toBoolean(row.tool_export),
        },
        fields: fieldsOf.get(module) ?? new Map(),
        listColumns: columnsOf.get(module) ?? [],
      });
    }

    return {
      general: {
        owner,
        twoFactorType: oneOf(TWO_FACTOR_TYPES, profile.two_factor_type, 'none'),
        twoFactorFallback: oneOf(TWO_FACTOR_TYPES, profile.two_factor_fallback, 'none'),
      },
      notifications: {
        templates: Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, nullableId(profile[templateColumns[kind]])])) as Record<NotificationKind, number | null>,
        smtpAccount: oneOf(SMTP_ACCOUNTS, profile.smtp_account, 'default'),
        senderEmail: nullableText(profile.sender_email),
        senderName: nullableText(profile.sender_name),
      },
      buttons: buttonRows.map((row) => ({
        title: String(row.title),
        description: String(row.description ?? ''),
        ...buttonTranslations(row.translations),
        colour: oneOf(BUTTON_COLOURS, row.colour, 'primary'),
        icon: String(row.icon),
        action: oneOf(BUTTON_ACTIONS, row.action, 'list'),
        module: String(row.module),
      })),
      rules: ruleRows.map((row) => ({
        name: String(row.name),
        module: String(row.module),
        origin: parseJson(row.origin, { kind: 'portal' }),
        conditions: parseJson(row.conditions, []),
        effects: parseJson(row.effects, []),
        allReadOnly: toBoolean(row.all_read_only),
      })),
      globals: { viewAll: toBoolean(profile.view_all), editAll: toBoolean(profile.edit_all) },
      modules,
    };
  }

  async writeGeneral(profileId: number, general: GeneralSection, transaction: Transaction): Promise<void> {
    await this.sequelize.query(
      `UPDATE bp_profiles SET owner_kind = :ownerKind, owner_id = :ownerId, two_factor_type = :type, two_factor_fallback = :fallback WHERE id = :profileId`,
      {
        replacements: {
          profileId,
          ownerKind: general.owner?.kind ?? null,
          ownerId: general.owner?.id ?? null,
          type: general.twoFactorType,
          fallback: general.twoFactorFallback,
        },
        transaction,
      },
    );
  }

  async writeNotifications(profileId: number, notifications: NotificationsSection, transaction: Transaction): Promise<void> {
    // The sender's name and address are admin text: bind parameters, never inside the SQL.
    const assignments = NOTIFICATION_KINDS.map((kind) => `${templateColumns[kind]} = $${kind}`).join(', ');
    await this.sequelize.query(
      `UPDATE bp_profiles SET ${assignments}, smtp_account = $smtp, sender_email = $senderEmail, sender_name = $senderName WHERE id = $profileId`,
      {
        bind: {
          profileId,
          ...notifications.templates,
          smtp: notifications.smtpAccount,
          senderEmail: notifications.senderEmail,
          senderName: notifications.senderName,
        },
        transaction,
      },
    );
  }

  async writeGlobals(profileId: number, globals: GlobalPrivileges, transaction: Transaction): Promise<void> {
    await this.sequelize.query('UPDATE bp_profiles SET view_all = :viewAll, edit_all = :editAll WHERE id = :profileId', {
      replacements: { profileId, viewAll: globals.viewAll, editAll: globals.editAll },
      transaction,
    });
  }

  async writeButtons(profileId: number, buttons: readonly HomeButton[], transaction: Transaction): Promise<void> {
    await this.sequelize.query('DELETE FROM bp_profile_buttons WHERE profile_id = :profileId', { replacements: { profileId }, transaction });
    await this.insert(
      'bp_profile_buttons',
      buttons.map(({ translations, ...button }, position) => ({
        profile_id: profileId,
        position,
        ...button,
        translations: translations && Object.keys(translations).length > 0 ? JSON.stringify(translations) : null,
      })),
      transaction,
    );
  }

  async writeRules(profileId: number, rules: readonly ConditionalRule[], transaction: Transaction): Promise<void> {
    await this.sequelize.query('DELETE FROM bp_profile_rules WHERE profile_id = :profileId', { replacements: { profileId }, transaction });
    await this.insert(
      'bp_profile_rules',
      rules.map((rule, position) => ({
        profile_id: profileId,
        position,
        name: rule.name,
        module: rule.module,
        origin: JSON.stringify(rule.origin),
        conditions: JSON.stringify(rule.conditions),
        effects: JSON.stringify(rule.effects),
        all_read_only: rule.allReadOnly,
      })),
      transaction,
    );
  }

  /**
   * Replaces the stored privileges of the modules given; other modules' rows stay as they are.
   * Three DELETEs and three INSERTs whatever the number of modules and fields (the editor sends
   * every module: one statement per module and table was 360 statements for 40 modules), the
   * INSERTs split only past `INSERT_ROWS` rows.
   */
  async writeModules(profileId: number, modules: readonly ModulePrivileges[], transaction: Transaction): Promise<void> {
    if (modules.length === 0) return;
    const replacements = { profileId, modules: modules.map((entry) => entry.module) };
    for (const table of ['bp_profile_modules', 'bp_profile_fields', 'bp_profile_list_columns']) {
      await this.sequelize.query(`DELETE FROM ${table} WHERE profile_id = :profileId AND module IN (:modules)`, { replacements, transaction });
    }
    await this.insert(
      'bp_profile_modules',
      modules.map((entry) => ({
        profile_id: profileId,
        module: entry.module,
        shown: entry.shown,
        can_view: entry.view,
        can_create: entry.create,
        can_edit: entry.edit,
        can_delete: entry.delete,
        record_scope: entry.scope,
        tool_comments: entry.tools.comments,
        tool_documents: entry.tools.documents,
        tool_search: entry.tools.search,
        tool_export: entry.tools.export,
      })),
      transaction,
    );
    await this.insert(
      'bp_profile_fields',
      modules.flatMap((entry) => Object.entries(entry.fields).map(([field, access]) => ({ profile_id: profileId, module: entry.module, field, access }))),
      transaction,
    );
    await this.insert(
      'bp_profile_list_columns',
      modules.flatMap((entry) => entry.listColumns.map((field, position) => ({ profile_id: profileId, module: entry.module, field, position }))),
      transaction,
    );
  }

  /** Copies every section of `sourceId` onto `targetId` (stored rows of modules the host lacks now included). */
  async copy(sourceId: number, targetId: number, transaction: Transaction): Promise<void> {
    const assignments = SECTION_COLUMNS.map((column) => `${column} = :${column}`).join(', ');
    const [source] = await this.select(`SELECT ${SECTION_COLUMNS.join(', ')} FROM bp_profiles WHERE id = :sourceId`, { sourceId }, transaction);
    if (!source) return;
    await this.sequelize.query(`UPDATE bp_profiles SET ${assignments} WHERE id = :targetId`, {
      replacements: { ...Object.fromEntries(SECTION_COLUMNS.map((column) => [column, source[column] ?? null])), targetId },
      transaction,
    });
    for (const [table, columns] of Object.entries(CHILD_TABLES)) {
      const list = columns.join(', ');
      await this.sequelize.query(`INSERT INTO ${table} (profile_id, ${list}) SELECT :targetId, ${list} FROM ${table} WHERE profile_id = :sourceId ORDER BY id`, {
        replacements: { sourceId, targetId },
        transaction,
      });
    }
  }

  /** Removes every child row of a profile (before the profile itself). */
  async removeAll(profileId: number, transaction: Transaction): Promise<void> {
    for (const table of Object.keys(CHILD_TABLES)) {
      await this.sequelize.query(`DELETE FROM ${table} WHERE profile_id = :profileId`, { replacements: { profileId }, transaction });
    }
  }

  /** Inserts `rows` in statements of at most `INSERT_ROWS` rows (none when there are none). */
  private async insert(table: string, rows: readonly Row[], transaction: Transaction): Promise<void> {
    for (let start = 0; start < rows.length; start += INSERT_ROWS) {
      await this.sequelize.getQueryInterface().bulkInsert(table, rows.slice(start, start + INSERT_ROWS), { transaction });
    }
  }
}
