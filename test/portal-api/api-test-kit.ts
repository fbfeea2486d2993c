/**
 * What the portal API suites share: the demo host, portal sign-in over HTTP, a small JSON client
 * with the session cookie, and the plugin's own services on the host's database (profiles,
 * settings) to change what a profile allows between requests.
 */
import 'reflect-metadata';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileDocument } from '../../plugin/profiles/profile-document.js';
import { SequelizeProfileStore } from '../../plugin/profiles/profile-store.js';
import { SequelizeSettingsStore } from '../../plugin/settings/settings-store.js';
import { profileService } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';

export const API = '/portal/api/v1';
export const PASSWORD = 'Portal-demo-1';
export const JANE = 'jane.doe@example.com'; // Acme Ltd
export const TOM = 'tom.baker@example.com'; // Acme Ltd
export const GIULIA = 'giulia.bianchi@example.com'; // Acme Italia Srl, a subsidiary of Acme Ltd
export const MARIO = 'mario.rossi@example.com'; // Rossi SpA

export async function startApiHost(): Promise<TestHost> {
  return startTestHost({ demo: true });
}

export async function portalLogin(test: TestHost, email: string, password = PASSWORD): Promise<string> {
  const res = await fetch(`${test.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`Portal login of ${email} failed (HTTP ${res.status})`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('bp_session='));
  if (!cookie) throw new Error('No session cookie');
  return cookie;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

export interface ApiClient {
  readonly cookie: string;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  send(method: string, path: string, body?: unknown): Promise<Answer>;
  upload(path: string, file: { name: string; content: Buffer | string; type?: string }, options?: { title?: string; header?: boolean }): Promise<Answer>;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, text, body };
}

export function apiClient(test: TestHost, cookie = ''): ApiClient {
  const base = (headers: Record<string, string> = {}) => (cookie ? { cookie, ...headers } : headers);
  return {
    cookie,
    get: async (path, headers) => answerOf(await fetch(`${test.url}${API}${path}`, { headers: base(headers), redirect: 'manual' })),
    send: async (method, path, body) =>
      answerOf(
        await fetch(`${test.url}${API}${path}`, {
          method,
          redirect: 'manual',
          headers: base({ 'content-type': 'application/json' }),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      ),
    upload: async (path, file, options = {}) => {
      const form = new FormData();
      form.append('file', new Blob([file.content], { type: file.type ?? 'application/octet-stream' }), file.name);
      if (options.title !== undefined) form.append('title', options.title);
      const headers = base(options.header === false ? {} : { 'x-requested-with': 'business-portal' });
      return answerOf(await fetch(`${test.url}${API}${path}`, { method: 'POST', body: form, headers, redirect: 'manual' }));
    },
  };
}

export async function signedIn(test: TestHost, email: string): Promise<ApiClient> {
  return apiClient(test, await portalLogin(test, email));
}

/** The Default profile's document and a way to save one of its sections (bumps the version: policies follow at once). */
export async function defaultProfile(api: HostApi): Promise<{ document: ProfileDocument; save(section: 'modules' | 'rules' | 'buttons' | 'general', value: unknown): Promise<ProfileDocument> }> {
  const service = profileService(api);
  const { id } = await new SequelizeProfileStore(api.database).defaultProfile();
  const document = await service.document(id);
  const actor = { userId: 0, userName: 'test' };
  return {
    document,
    async save(section, value) {
      const current = await service.document(id);
      return (await service.saveSection(id, section, value as never, current.profile.version, actor)).document;
    },
  };
}

/** Changes one module of the Default profile. */
export async function changeModule(api: HostApi, module: string, change: (entry: any) => any): Promise<void> {
  const profile = await defaultProfile(api);
  await profile.save('modules', profile.document.modules.map((entry) => (entry.module === module ? change({ ...entry, fields: { ...entry.fields }, tools: { ...entry.tools } }) : entry)));
}

export function settingsStore(api: HostApi): SequelizeSettingsStore {
  return new SequelizeSettingsStore(api.database);
}

/** Ids of a module's records matching a field value (straight from the host, scope-free). */
export async function idsWhere(api: HostApi, module: string, field: string, value: string | number): Promise<number[]> {
  const page = await api.records.query(module, { where: { field, op: 'eq', value }, limit: 1000 });
  return page.rows.map((r) => r.id);
}
