/**
 * Seeds the reference host's demo: custom modules, accounts, contacts, tickets with comments and
 * files, sales documents, projects and contracts, then the demo portal users through the plugin.
 *
 * It writes only through the host contract (`records`, `modules`) and the plugin's own
 * `seedDemo`, as a host developer's script would. Idempotent record by record: each record is
 * looked up by its natural key (its module's label field; first and last name for contacts)
 * before it is created, and its comments and files are added only where they are missing, so a
 * second run adds nothing and a run that stopped half-way is completed by the next one.
 */
import type { Actor, CrmRecord, CrmUser, FieldValue, HostApi, ModuleDefinition, RecordCondition } from '../../plugin/host-contract/index.js';
import type { ReferenceHost } from '../reference-host.js';
import { QueryTypes } from 'sequelize';
import { withSetupLock } from '../schema/migrate.js';
import { ADMIN_USER_NAME, DEMO_ADMIN_PASSWORD } from '../users/base-users.js';
import { verifyPassword } from '../users/password-hash.js';
import { demoCustomModules } from './demo-modules.js';
import { type DemoRecord, demoPortalCustomers, demoRecords } from './demo-records.js';

/** The password of every demo portal user; no change is required at first login. */
export const DEMO_PORTAL_PASSWORD = 'Portal-demo-1';

/**
 * What `npm start` prints. The admin password is the one the host gives its admin in demo mode
 * (`demo: true`), or null when this database's admin was created outside the demo with another.
 */
export interface DemoSummary {
  readonly adminUser: string;
  readonly adminPassword: string | null;
  readonly customers: readonly { readonly email: string; readonly password: string; readonly account: string; readonly language: string }[];
}

/** The demo refuses a database that holds other contacts: it would take theirs over by name. */
export class DemoRefusedError extends Error {}

/**
 * What tells a demo database from another: the demo's own custom modules (nothing else registers
 * them), or, on a database from before them, a demo contact's address. An address alone was not
 * enough: an admin who changed Jane's email in the CRM (as the README's walk-through invites) found
 * the next `npm start` refusing the demo's own database.
 */
const DEMO_MARKER_EMAIL = 'jane.doe@example.com';

async function isDemoDatabase(api: HostApi): Promise<boolean> {
  if (demoCustomModules.some((definition) => api.modules.module(definition.name))) return true;
  return (await api.records.count('Contacts', { field: 'email', op: 'eq', value: DEMO_MARKER_EMAIL })) > 0;
}

export async function seedDemoData(host: ReferenceHost): Promise<DemoSummary> {
  // One process at a time (two `npm start` on a new database): the second, seeding beside the
  // first, failed on the custom module the first had just made, or made the same records again.
  // It now waits, then finds them (its registry read again: its snapshot may predate them).
  let summary: DemoSummary | undefined;
  await withSetupLock(host.api.database.sequelize, async () => {
    await host.registry.sync();
    summary = await seedDemoDataNow(host);
  });
  return summary!;
}

async function seedDemoDataNow(host: ReferenceHost): Promise<DemoSummary> {
  const api = host.api;
  const contactsBefore = await api.records.count('Contacts');
  if (contactsBefore > 0 && !(await isDemoDatabase(api))) {
    throw new DemoRefusedError(
      `This database already holds contacts that are not the demo's (${contactsBefore}; generated data, say): the demo would mix its records and logins into them. Start the host with DEMO=0, or give the demo a new database (DATABASE_URL).`,
    );
  }
  for (const definition of demoCustomModules) await ensureModule(api, definition);

  const staff = new Map((await api.users.users()).map((user) => [user.userName, user]));
  if (!staff.get(ADMIN_USER_NAME)) throw new Error('The demo needs the CRM admin user, which the host creates before seeding');
  const ids = new Map<string, number>();
  const contacts = new Map<string, CrmRecord>();
  let created = 0;
  for (const spec of demoRecords(new Date())) {
    // The record's staff user if the host has them (the base users may have been changed), else the admin.
    const user = staff.get(spec.staff ?? ADMIN_USER_NAME) ?? staff.get(ADMIN_USER_NAME)!;
    const { record, isNew } = await ensureRecord(api, spec, ids, user);
    ids.set(spec.ref, record.id);
    if (spec.module === 'Contacts') contacts.set(spec.ref, record);
    if (isNew) created += 1;
    await ensureComments(api, spec, record, user);
    await ensureFiles(api, spec, record, user);
  }

  const customers = demoPortalCustomers.map(({ contact, account }) => {
    const record = contacts.get(contact);
    if (!record) throw new Error(`Demo portal customer "${contact}" is not a demo contact`);
    return { record, account };
  });
  await seedPortalUsers(host, customers.map(({ record }) => ({ contactId: record.id, password: DEMO_PORTAL_PASSWORD })));

  api.logger.info('Demo data seeded', { recordsCreated: created, portalUsers: customers.length });
  return {
    adminUser: ADMIN_USER_NAME,
    adminPassword: (await adminHasDemoPassword(host)) ? DEMO_ADMIN_PASSWORD : null,
    customers: customers.map(({ record, account }) => ({
      email: String(record.values.email),
      password: DEMO_PORTAL_PASSWORD,
      account,
      language: String(record.values.language),
    })),
  };
}

/** Registers a custom module unless a module of that name exists already. */
async function ensureModule(api: HostApi, definition: ModuleDefinition): Promise<void> {
  if (!api.modules.module(definition.name)) await api.modules.registerModule(definition);
}

/** The fields whose values identify a demo record of a module on a later run. */
function naturalKey(api: HostApi, module: string): readonly string[] {
  if (module === 'Contacts') return ['firstname', 'lastname'];
  const definition = api.modules.module(module);
  if (!definition) throw new Error(`The host has no module ${module}`);
  return [definition.labelField];
}

async function ensureRecord(
  api: HostApi,
  spec: DemoRecord,
  ids: ReadonlyMap<string, number>,
  user: CrmUser,
): Promise<{ readonly record: CrmRecord; readonly isNew: boolean }> {
  const values: Record<string, FieldValue> = { ...spec.values };
  for (const [field, ref] of Object.entries(spec.links ?? {})) {
    const id = ids.get(ref);
    if (id === undefined) throw new Error(`Demo record ${spec.ref} links ${field} to "${ref}", which is not seeded before it`);
    values[field] = id;
  }
  const where: RecordCondition = {
    and: naturalKey(api, spec.module).map((field) =>
      values[field] === null || values[field] === undefined ? { field, op: 'isNull' } : { field, op: 'eq', value: values[field] },
    ),
  };
  const { rows } = await api.records.query(spec.module, { where, limit: 1 });
  if (rows[0]) return { record: rows[0], isNew: false };
  const record = await api.records.create(spec.module, { values, owner: { kind: 'user', id: user.id } }, { actor: { kind: 'user', userId: user.id } });
  return { record, isNew: true };
}

/** Adds the record's comments when it has none yet (they belong together, in order). */
async function ensureComments(api: HostApi, spec: DemoRecord, record: CrmRecord, user: CrmUser): Promise<void> {
  if (!spec.comments?.length) return;
  if ((await api.records.commentCount(spec.module, record.id, { includeInternal: true })) > 0) return;
  for (const comment of spec.comments) {
    const contactId = record.values.contact_id;
    if (comment.by === 'contact' && typeof contactId !== 'number') throw new Error(`Demo record ${spec.ref} has a contact comment but no contact`);
    const actor: Actor = comment.by === 'contact' ? { kind: 'contact', contactId: contactId as number } : { kind: 'user', userId: user.id };
    await api.records.addComment(spec.module, record.id, { body: comment.body, internal: comment.internal ?? false }, { actor });
  }
}

/** Attaches each file the record does not hold yet (matched by file name). */
async function ensureFiles(api: HostApi, spec: DemoRecord, record: CrmRecord, user: CrmUser): Promise<void> {
  if (!spec.files?.length) return;
  const present = new Set((await api.records.documents(spec.module, record.id)).map((file) => file.fileName));
  for (const file of spec.files) {
    if (!present.has(file.fileName)) await api.records.attachDocument(spec.module, record.id, file, { actor: { kind: 'user', userId: user.id } });
  }
}

/**
 * Makes the demo customers portal users through the demo hook (`seedDemo`) of every loaded plugin
 * that offers one. A demo without such a plugin could not let its customers in: that is an error.
 */
async function seedPortalUsers(host: ReferenceHost, customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void> {
  const installed = new Set(['installed', 'active', 'inactive']);
  const seeding = host.plugins.list().filter((plugin) => typeof plugin.lifecycle.seedDemo === 'function' && installed.has(plugin.state));
  if (seeding.length === 0) throw new Error('No loaded plugin offers demo portal users (seedDemo): start the host with the Business Portal plugin');
  for (const plugin of seeding) await plugin.lifecycle.seedDemo!(host.api, customers);
}

/** Whether the admin signs in with the demo password (not so when the admin was created outside the demo). */
async function adminHasDemoPassword(host: ReferenceHost): Promise<boolean> {
  const rows = await host.api.database.sequelize.query<{ password_hash: string | null }>('SELECT password_hash FROM crm_users WHERE user_name = :name', {
    type: QueryTypes.SELECT,
    replacements: { name: ADMIN_USER_NAME },
  });
  return verifyPassword(DEMO_ADMIN_PASSWORD, rows[0]?.password_hash ?? null);
}
