/**
 * What the profile suites share: the profile service built on a running reference host's
 * database and registry (the same classes the plugin binds), an admin's CRM session with its
 * CSRF token, and small SQL helpers.
 */
import 'reflect-metadata';
import { QueryTypes } from 'sequelize';
import { RegistryModuleEligibility } from '../../plugin/eligibility/module-eligibility.js';
import type { FieldDefinition, HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import { ProfileAudit } from '../../plugin/profiles/profile-audit.js';
import type { ProfileActor } from '../../plugin/profiles/profile-document.js';
import { ProfileSectionsStore } from '../../plugin/profiles/profile-sections-store.js';
import { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { SequelizeProfileStore } from '../../plugin/profiles/profile-store.js';
import { crmLogin, TEST_ADMIN_PASSWORD, type TestHost } from '../support/host.js';

export const SETTINGS = '/settings/business-portal';

export function profileService(api: HostApi): DatabaseProfileService {
  const db = api.database;
  return new DatabaseProfileService(
    db,
    new SequelizeProfileStore(db),
    new ProfileSectionsStore(db),
    new ProfileAudit(db),
    new RegistryModuleEligibility(api.modules),
    api.modules,
    api.licences,
    api.users,
    api.emailTemplates,
    api.conditionalRules,
    api.regional,
  );
}

export async function adminActor(api: HostApi): Promise<ProfileActor> {
  const admin = (await api.users.users()).find((u) => u.userName === 'admin')!;
  return { userId: admin.id, userName: admin.userName };
}

/** A JSON refusal of the admin routes: its code and message, and for a validation its problems. */
export interface JsonError {
  readonly error: { readonly code: string; readonly message: string; readonly problems: readonly { readonly path: string; readonly message: string }[] };
}

export interface AdminClient {
  readonly cookie: string;
  readonly csrf: string;
  get(path: string): Promise<Response>;
  /** A form post with the CSRF token (unless `csrf: false`). */
  post(path: string, fields: Record<string, string>, options?: { csrf?: boolean }): Promise<Response>;
  /** A JSON request with the CSRF header. */
  json(method: string, path: string, body: unknown): Promise<Response>;
}

export async function adminClient(test: TestHost, userName = 'admin', password = TEST_ADMIN_PASSWORD): Promise<AdminClient> {
  const cookie = await crmLogin(test.url, userName, password);
  const home = await fetch(`${test.url}${SETTINGS}/profiles/new`, { headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await home.text())?.[1] ?? '';
  return {
    cookie,
    csrf,
    get: (path) => fetch(`${test.url}${path}`, { redirect: 'manual', headers: { cookie } }),
    post: (path, fields, options = {}) =>
      fetch(`${test.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(options.csrf === false ? fields : { _csrf: csrf, ...fields }).toString(),
      }),
    json: (method, path, body) =>
      fetch(`${test.url}${path}`, {
        method,
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify(body),
      }),
  };
}

export async function rows<T extends object>(api: HostApi, sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  return api.database.sequelize.query<T>(sql, { type: QueryTypes.SELECT, replacements });
}

export async function count(api: HostApi, table: string, where = '1 = 1', replacements: Record<string, unknown> = {}): Promise<number> {
  const [row] = await rows<{ n: unknown }>(api, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, replacements);
  return Number(row!.n);
}

/**
 * A CRM email template with one English version, written to the reference host's tables (the
 * host contract reads templates, it does not create them); answers its id. `body` is the text
 * version, and the HTML one in a paragraph.
 */
/** A CRM template with one English version: `body` in its HTML part (in a paragraph) and as its plain text, unless `text` gives another. */
export async function addEmailTemplate(
  api: HostApi,
  template: { readonly name: string; readonly module: string; readonly subject: string; readonly body: string; readonly text?: string },
): Promise<number> {
  const now = new Date();
  await api.database.sequelize.query('INSERT INTO crm_email_templates (name, description, module, default_language, created_at, updated_at) VALUES (:name, :d, :m, :l, :now, :now)', {
    replacements: { name: template.name, d: '', m: template.module, l: 'en', now },
  });
  const [row] = await rows<{ id: unknown }>(api, 'SELECT id FROM crm_email_templates WHERE name = :name', { name: template.name });
  const id = Number(row!.id);
  await api.database.sequelize.query('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:id, :l, :s, :h, :t, :now)', {
    replacements: { id, l: 'en', s: template.subject, h: `<p>${template.body}</p>`, t: template.text ?? template.body, now },
  });
  return id;
}

/** Deletes a CRM email template and its versions, as a CRM admin would. */
export async function deleteEmailTemplate(api: HostApi, id: number): Promise<void> {
  await api.database.sequelize.query('DELETE FROM crm_email_template_versions WHERE template_id = :id', { replacements: { id } });
  await api.database.sequelize.query('DELETE FROM crm_email_templates WHERE id = :id', { replacements: { id } });
}

export async function profileIdByName(api: HostApi, name: string): Promise<number | null> {
  const [row] = await rows<{ id: unknown }>(api, 'SELECT id FROM bp_profiles WHERE name = :name', { name });
  return row ? Number(row.id) : null;
}

/** A portal account on a profile (the auth capability's table; no CRM contact needed here). */
export async function addPortalAccount(api: HostApi, contactId: number, profileId: number): Promise<void> {
  await api.database.sequelize.getQueryInterface().bulkInsert('bp_portal_accounts', [
    {
      contact_id: contactId,
      email: `contact${contactId}@example.com`,
      portal_enabled: true,
      profile_id: profileId,
      must_change_password: false,
      failed_attempts: 0,
      created_at: new Date(),
      updated_at: new Date(),
      version: 1,
    },
  ]);
}

const WIDE_FIELD_TYPES = ['textarea', 'integer', 'date', 'boolean', 'textarea'] as const;

/**
 * A custom module of `fields` fields for the scale suites: a title, a reference to Contacts (which
 * makes it portal-eligible), a picklist, and the rest of a few types whose columns MariaDB keeps off
 * the row (so that 200 of them fit).
 */
export function wideModule(name: string, fields: number): ModuleDefinition {
  const list: FieldDefinition[] = [
    { name: 'title', label: { en: 'Title', it: 'Titolo' }, type: 'textarea', mandatory: true },
    { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
    { name: 'stage', label: { en: 'Stage', it: 'Fase' }, type: 'picklist', mandatory: false, picklistValues: ['Open', 'Closed'] },
  ];
  for (let f = list.length; f < fields; f += 1) {
    list.push({ name: `field_${f}`, label: { en: `Field ${f}`, it: `Campo ${f}` }, type: WIDE_FIELD_TYPES[f % WIDE_FIELD_TYPES.length]!, mandatory: false });
  }
  return { name, label: { en: name }, singularLabel: { en: name }, custom: true, labelField: 'title', fields: list };
}

/** Registers a wide module as a CRM admin would: the registry takes 150 fields at once, the others are added one by one. */
export async function addWideModule(api: HostApi, name: string, fields: number): Promise<void> {
  const definition = wideModule(name, fields);
  await api.modules.registerModule({ ...definition, fields: definition.fields.slice(0, 150) });
  for (const field of definition.fields.slice(150)) await api.modules.addField(name, field);
}
