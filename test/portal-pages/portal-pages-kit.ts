/**
 * What the portal page suites share: a demo host (Jane of Acme Ltd, Mario of Rossi SpA), signed-in
 * page clients, the ids of a customer's tickets read from their own list, and a way to change the
 * demo's Default profile (e.g. to hide a field) through the plugin's profile service.
 */
import { PortalClient } from '../sign-in/sign-in-fixture.js';
import { adminActor, profileService } from '../profiles/profile-test-kit.js';
import type { ModulePrivilegesInput } from '../../plugin/profiles/profile-schemas.js';
import type { TestHost } from '../support/host.js';

export const JANE = 'jane.doe@example.com';
export const MARIO = 'mario.rossi@example.com';
export const DEMO_PASSWORD = 'Portal-demo-1';

export async function signedIn(test: TestHost, email: string, language = 'en'): Promise<PortalClient> {
  const client = new PortalClient(`${test.url}/portal`, { 'accept-language': language });
  const { response } = await client.signIn(email, DEMO_PASSWORD);
  if (response.status !== 303) throw new Error(`${email} could not sign in (HTTP ${response.status})`);
  return client;
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
