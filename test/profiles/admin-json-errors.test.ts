/**
 * The privileges editor's JSON routes answer every refusal as `{"error": {code, message}}`, not
 * as an HTML page: a body that is not JSON, one over the size limit, a missing CSRF token, a
 * non-admin, an unknown route. Form posts keep their HTML pages.
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { clerkClient } from '../settings/settings-test-kit.js';
import { adminActor, adminClient, profileService, SETTINGS, type AdminClient, type JsonError } from './profile-test-kit.js';

describe('admin JSON routes: errors as JSON @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  let path: string;
  let version: number;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    admin = await adminClient(test);
    const profile = await profileService(api).create({ name: 'JSON errors', description: '', startFrom: null }, await adminActor(api));
    path = `${SETTINGS}/profiles/${profile.id}/sections/globals`;
    version = profile.version;
  });
  after(async () => {
    await test?.stop();
  });

  const put = (body: string, headers: Record<string, string> = {}, cookie = admin.cookie) =>
    fetch(`${test.url}${path}`, { method: 'PUT', redirect: 'manual', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf, ...headers }, body });

  async function expectJson(response: Response, status: number, code: string, message: string): Promise<void> {
    expect(response.status).to.equal(status);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = (await response.json()) as JsonError;
    expect(body.error.code).to.equal(code);
    expect(body.error.message).to.equal(message);
  }

  it('answers a body that is not JSON with a 400 in JSON', async () => {
    await expectJson(await put('{"version": 1, "value": '), 400, 'invalid_json', 'The request body is not valid JSON.');
  });

  it('answers a body over the size limit with a 413 in JSON', async () => {
    const big = JSON.stringify({ version, value: { viewAll: true, editAll: false, padding: 'x'.repeat(1_100_000) } });
    await expectJson(await put(big), 413, 'payload_too_large', 'The request body is too large.');
  });

  it('answers a list far over its limit with one problem, not one per entry (a 1 MB body once took a minute and answered 100 MB)', async () => {
    const modules = path.replace(/globals$/, 'modules');
    const body = `{"version":${version},"value":[${Array(40_000).fill('{}').join(',')}]}`;
    const response = await fetch(`${test.url}${modules}`, { method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf }, body });
    expect(response.status).to.equal(400);
    const answer = (await response.json()) as JsonError & { error: { problems: { path: string; message: string }[] } };
    expect(answer.error.problems).to.deep.equal([{ path: 'modules', message: 'modules: at most 500 entries are allowed.' }]);
    // Within the limit every entry is checked, but a refusal lists at most 50 problems.
    const within = `{"version":${version},"value":[${Array(500).fill('{}').join(',')}]}`;
    const refused = await fetch(`${test.url}${modules}`, { method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf }, body: within });
    expect(refused.status).to.equal(400);
    const problems = ((await refused.json()) as { error: { problems: { path: string }[] } }).error.problems;
    expect(problems).to.have.length(50);
    expect(problems[0]!.path).to.equal('modules[0].module');
    expect((await profileService(api).document(Number(path.split('/')[4]))).modules.length).to.be.greaterThan(0);
  });

  it('refuses text with a lone surrogate as it refuses a NUL, naming the place, and changes nothing (SQLite and PostgreSQL stored U+FFFD, MariaDB "?")', async () => {
    const id = Number(path.split('/')[4]);
    const service = profileService(api);
    const before = await service.document(id);
    const section = (name: string) => path.replace(/globals$/, name);
    const send = (url: string, body: string) => fetch(`${test.url}${url}`, { method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf }, body });
    const notifications = { ...before.notifications, senderName: 'Support \\ud800' };
    const rule = { name: 'Half \\udc00 a pair', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }, { field: 'status', op: 'in', value: ['Open', 'x\\ud800'] }], effects: [], allReadOnly: true };
    // JSON's escapes are the one way to send one: a form's bytes decode to U+FFFD.
    const cases: [string, string, string[]][] = [
      [section('notifications'), JSON.stringify({ version: before.profile.version, value: notifications }).replaceAll('\\\\u', '\\u'), ['notifications.senderName']],
      [section('rules'), JSON.stringify({ version: before.profile.version, value: [rule] }).replaceAll('\\\\u', '\\u'), ['rules[0].name', 'rules[0].conditions[1].value[1]']],
    ];
    for (const [url, body, paths] of cases) {
      const response = await send(url, body);
      expect(response.status, url).to.equal(400);
      const problems = ((await response.json()) as { error: { problems: { path: string; message: string }[] } }).error.problems;
      expect(problems.map((p) => p.path), url).to.deep.equal(paths);
      expect(problems[0]!.message).to.match(/half of a character/);
    }
    // The import takes the export file as JSON: a name with one is refused like one with a NUL.
    const exported = await (await fetch(`${test.url}${SETTINGS}/profiles/${id}/export`, { headers: { cookie: admin.cookie } })).text();
    expect(exported).to.match(/"name": ?"JSON errors"/);
    const imported = await fetch(`${test.url}${SETTINGS}/profiles/import`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf },
      body: exported.replace(/"name": ?"JSON errors"/, '"name":"Imported \\ud800"'),
    });
    expect(imported.status).to.equal(400);
    expect(JSON.stringify(await imported.json())).to.match(/half of a character/);
    const { profile: _p, ...sections } = await service.document(id);
    const { profile: _b, ...was } = before;
    expect(sections).to.deep.equal(was);
    expect((await service.list()).map((p) => p.name)).not.to.include.members(['Imported \uFFFD', 'Imported ?']);
  });

  it('saves nothing of a section whose changes are all valid but one: privileges, quick actions, conditional fields, templates, general', async () => {
    const id = Number(path.split('/')[4]);
    const service = profileService(api);
    const send = (section: string, value: unknown, version: number) =>
      fetch(`${test.url}${path.replace(/globals$/, section)}`, { method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': admin.csrf }, body: JSON.stringify({ version, value }) });
    // A profile showing tickets, with create, so that buttons and rules have a module.
    let document = await service.document(id);
    const shown = document.modules.map((entry) => (entry.module === 'HelpDesk' ? { ...entry, shown: true, view: true, create: true, edit: true } : entry));
    expect((await send('modules', shown, document.profile.version)).status).to.equal(200);
    document = await service.document(id);
    const button = { title: 'New ticket', description: 'Ask us', colour: 'primary', icon: 'plus', action: 'create', module: 'HelpDesk' };
    const rule = { name: 'Closed is read-only', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [], allReadOnly: true };
    const mixed: [string, unknown][] = [
      ['modules', document.modules.map((entry) => (entry.module === 'HelpDesk' ? { ...entry, delete: true, fields: { ...entry.fields, ticket_title: 'readonly' } } : entry.module === 'Faq' ? { ...entry, shown: true, view: true, listColumns: ['question', 'no_such_field'] } : entry))],
      ['buttons', [button, { ...button, title: 'Second' }, { ...button, title: 'Third', icon: 'no-such-icon' }]],
      ['rules', [rule, { ...rule, name: 'Open too' }, { ...rule, name: 'Broken', conditions: [{ field: 'no_such_field', op: 'eq', value: 'x' }] }]],
      ['notifications', { ...document.notifications, senderName: 'Support', senderEmail: 'support@example.com', templates: { ...document.notifications.templates, ticketReply: 2_147_483_647 } }],
      ['general', { ...document.general, twoFactorType: 'email', owner: { kind: 'user', id: 2_147_483_647 } }],
    ];
    const bad: Record<string, string> = {
      modules: `modules[${document.modules.findIndex((entry) => entry.module === 'Faq')}].listColumns[1]`,
      buttons: 'buttons[2].icon',
      rules: 'rules[2].conditions[0].field',
      notifications: 'notifications.templates.ticketReply',
      general: 'general.owner',
    };
    const audit = (await service.audit(id)).length;
    for (const [section, value] of mixed) {
      const response = await send(section, value, document.profile.version);
      expect(response.status, section).to.equal(400);
      // Refused for the one bad part, and for it alone.
      expect(((await response.json()) as { error: { problems: { path: string }[] } }).error.problems.map((p) => p.path), section).to.deep.equal([bad[section]]);
      const { profile, ...sections } = await service.document(id);
      const { profile: was, ...before } = document;
      expect(sections, section).to.deep.equal(before);
      expect(profile.version, section).to.equal(was.version);
    }
    expect((await service.audit(id)).length, 'no audit row').to.equal(audit);
    // Control: the same changes without the bad part are saved.
    expect((await send('buttons', [button, { ...button, title: 'Second' }], document.profile.version)).status).to.equal(200);
  });

  it('answers a missing or forged CSRF token with a 403 in JSON, changing nothing', async () => {
    const body = JSON.stringify({ version, value: { viewAll: true, editAll: true } });
    await expectJson(await put(body, { 'x-csrf-token': '' }), 403, 'csrf', 'The form has expired or did not come from this site. Reload the page and try again.');
    await expectJson(await put(body, { 'x-csrf-token': 'forged' }), 403, 'csrf', 'The form has expired or did not come from this site. Reload the page and try again.');
    expect((await profileService(api).document(Number(path.split('/')[4]))).globals).to.deep.equal({ viewAll: false, editAll: false });
  });

  it('answers a non-admin and an unknown JSON route in JSON', async () => {
    const clerk = await clerkClient(test);
    const refused = await fetch(`${test.url}${path}`, {
      method: 'PUT',
      headers: { cookie: clerk.cookie, 'content-type': 'application/json', 'x-csrf-token': clerk.csrf },
      body: JSON.stringify({ version, value: { viewAll: true, editAll: true } }),
    });
    await expectJson(refused, 403, 'forbidden', 'Only CRM administrators may open this page.');
    const unknown = await fetch(`${test.url}${SETTINGS}/no-such-route`, { headers: { cookie: admin.cookie, accept: 'application/json' } });
    await expectJson(unknown, 404, 'not_found', 'The page you asked for does not exist.');
  });

  it('answers a signed-out JSON request with a 401 in JSON, a signed-out browser with the login', async () => {
    const body = JSON.stringify({ version, value: { viewAll: true, editAll: true } });
    await expectJson(await put(body, {}, ''), 401, 'not_signed_in', 'Your CRM session has ended. Sign in to the CRM again (in another tab, to keep this page), then try again.');
    const page = await fetch(`${test.url}${path.replace('/sections/globals', '')}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(page.status).to.equal(303);
    expect(page.headers.get('location')).to.match(/login/);
    expect((await profileService(api).document(Number(path.split('/')[4]))).globals).to.deep.equal({ viewAll: false, editAll: false });
  });

  it('keeps HTML pages for form posts and browser requests', async () => {
    const form = await admin.post(`${SETTINGS}/profiles`, { name: 'No token' }, { csrf: false });
    expect(form.status).to.equal(403);
    expect(form.headers.get('content-type')).to.match(/^text\/html/);
    const page = await fetch(`${test.url}${SETTINGS}/no-such-route`, { headers: { cookie: admin.cookie, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).to.equal(404);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
  });
});
