/**
 * What the portal page suites share: a demo host (Jane of Acme Ltd, Mario of Rossi SpA), signed-in
 * page clients, the ids of a customer's tickets read from their own list, and a way to change the
 * demo's Default profile (e.g. to hide a field) through the plugin's profile service, and a
 * Visits module (a datetime and a date) Jane may view, create and edit.
 */
import { PortalClient } from '../sign-in/sign-in-fixture.js';
import { adminActor, profileService } from '../profiles/profile-test-kit.js';
import type { ModulePrivilegesInput } from '../../plugin/profiles/profile-schemas.js';
import type { TestHost } from '../support/host.js';
import type { ModuleDefinition } from '../../plugin/host-contract/index.js';
import type { Page } from 'playwright-core';

export const JANE = 'jane.doe@example.com';
export const MARIO = 'mario.rossi@example.com';
export const DEMO_PASSWORD = 'Portal-demo-1';

export async function signedIn(test: TestHost, email: string, language = 'en'): Promise<PortalClient> {
  const client = new PortalClient(`${test.url}/portal`, { 'accept-language': language });
  const { response } = await client.signIn(email, DEMO_PASSWORD);
  if (response.status !== 303) throw new Error(`${email} could not sign in (HTTP ${response.status})`);
  return client;
}

/** Signs `email` in on the portal's login form in a browser page (`url`: the host's) and waits for the home. */
export async function signedInPage(page: Page, url: string, email: string = JANE): Promise<void> {
  await page.goto(`${url}/portal/login`);
  await page.fill('#bp-email', email);
  await page.fill('#bp-password', DEMO_PASSWORD);
  await Promise.all([page.waitForURL(/\/portal\/?$/), page.click('form.bp-form button[type="submit"]')]);
}

/** The record ids a list page links to (a row link may carry the list's query back). */
export function recordIdsIn(html: string, module: string): number[] {
  return [...new Set([...html.matchAll(new RegExp(`/portal/m/${module}/(\\d+)(\\?list[^"]*)?"`, 'g'))].map((m) => Number(m[1])))];
}

/** The invoice date the demo gave an invoice (the demo's dates count from the day it was seeded). */
export async function invoiceDate(test: TestHost, invoiceNo: string): Promise<string> {
  const page = await test.host.records.query('Invoice', { where: { field: 'invoice_no', op: 'eq', value: invoiceNo }, fields: ['invoicedate'], limit: 1 });
  const date = page.rows[0]?.values.invoicedate;
  if (typeof date !== 'string') throw new Error(`The demo has no invoice ${invoiceNo}`);
  return date.slice(0, 10);
}

/** Changes one module's privileges in the Default profile (the demo's customers use it). */
export async function changeDefaultModule(test: TestHost, module: string, change: (entry: ModulePrivilegesInput) => ModulePrivilegesInput): Promise<void> {
  const api = test.host.api;
  const service = profileService(api);
  const profiles = await service.list();
  const id = profiles.find((p) => p.isDefault)!.id;
  const document = await service.document(id);
  const modules = document.modules.map((entry) => (entry.module === module ? change({ ...entry } as ModulePrivilegesInput) : ({ ...entry } as ModulePrivilegesInput)));
  await service.saveSection(id, 'modules', modules, document.profile.version, await adminActor(api));
}

/** A multipart upload as a record page's form sends it (the CSRF token first, then the file). */
export async function upload(portal: string, client: PortalClient, path: string, token: string | null, name: string, content: Buffer | string, type = 'text/plain'): Promise<{ response: Response; html: string }> {
  const form = new FormData();
  if (token !== null) form.set('_csrf', token);
  form.set('file', new Blob([content], { type }), name);
  const response = await fetch(`${portal}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: client.cookieHeader() }, body: form });
  return { response, html: await response.text() };
}

/**
 * Registers a custom module and opens it on the Default profile for view, create and edit in
 * contact scope: `fields` gives each field's access, `listColumns` the list's columns.
 */
export async function openCustomModule(
  test: TestHost,
  definition: Omit<ModuleDefinition, 'custom'>,
  fields: Readonly<Record<string, 'readonly' | 'readwrite'>>,
  listColumns: readonly string[],
  tools: Partial<ModulePrivilegesInput['tools']> = {},
): Promise<void> {
  await test.host.api.modules.registerModule({ ...definition, custom: true });
  await changeDefaultModule(test, definition.name, (entry) => ({
    ...entry,
    shown: true,
    view: true,
    create: true,
    edit: true,
    scope: 'contact',
    fields: { ...fields },
    listColumns: [...listColumns],
    tools: { ...entry.tools, ...tools },
  }));
}

/** Registers Visits (a datetime and a date) for Jane's contact, open to her for view, create and edit. */
export async function visitsModule(test: TestHost): Promise<number> {
  await openCustomModule(
    test,
    {
      name: 'Visits',
      label: { en: 'Visits', it: 'Visite' },
      singularLabel: { en: 'Visit', it: 'Visita' },
      labelField: 'visit_no',
      fields: [
        { name: 'visit_no', label: { en: 'Visit', it: 'Visita' }, type: 'text', mandatory: true },
        { name: 'visited_at', label: { en: 'Visited at', it: 'Visitato il' }, type: 'datetime', mandatory: false },
        { name: 'visit_day', label: { en: 'Visit day', it: 'Giorno della visita' }, type: 'date', mandatory: false },
        { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
      ],
    },
    { visit_no: 'readwrite', visited_at: 'readwrite', visit_day: 'readwrite', contact_id: 'readonly' },
    ['visit_no', 'visited_at', 'visit_day'],
    { search: true, export: true },
  );
  return (await test.host.api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE }, limit: 1 })).rows[0]!.id;
}

/** The `value` of a form's input by its field name (entities decoded). */
export function boxValue(html: string, field: string): string | null {
  const input = new RegExp(`<input id="bp-field-${field}"[^>]*>`).exec(html)?.[0];
  const value = input ? /value="([^"]*)"/.exec(input)?.[1] : undefined;
  return value === undefined ? null : value.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
}
