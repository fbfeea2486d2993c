/**
 * The OpenAPI document against the router: every API route the portal router answers is in the
 * document and every operation of the document is answered (both found by walking, not listed by
 * hand), and the request schemas in it are the ones the routes validate with.
 */
import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { TestHost } from '../support/host.js';
import { mountedRoutes } from '../security/route-walk.js';
import { createRecordSchema, listQuerySchema } from '../../plugin/portal/api/api-schemas.js';
import { changeSchema, codeSchema, forgotSchema, resetSchema } from '../../plugin/auth/account-api-routes.js';
import { toOpenApiSchema } from '../../plugin/portal/api/openapi.js';
import { UPLOAD_RETRY_AFTER } from '../../plugin/access/upload-slots.js';
import { API, JANE, MARIO, TOM, apiClient, changeModule, signedIn, startApiHost, type Answer } from './api-test-kit.js';

describe('portal API: OpenAPI document', function () {
  this.timeout(120_000);
  let t: TestHost;
  let document: any;

  before(async () => {
    t = await startApiHost();
    const res = await apiClient(t).get('/openapi.json');
    expect(res.status).to.equal(200);
    document = res.body;
  });
  after(async () => t?.stop());

  it('is an OpenAPI 3.1 document served without a session, with the portal’s server URL', () => {
    expect(document.openapi).to.equal('3.1.0');
    expect(document.servers).to.deep.equal([{ url: API }]);
    expect(document.components.securitySchemes.portalSession).to.deep.equal({ type: 'apiKey', in: 'cookie', name: 'bp_session' });
  });

  it('lists every API route the router answers, and nothing it does not', () => {
    const routed = new Set(
      mountedRoutes(t.host)
        .filter((r) => r.mount === '/portal' && (r.path === API || r.path.startsWith(`${API}/`)))
        .map((r) => `${r.method} ${r.path}`),
    );
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const method of Object.keys(operations)) {
        const concrete = `${API}${path === '/' ? '' : path}`.replace(/\{[A-Za-z_]+\}/g, '1');
        documented.add(`${method.toUpperCase()} ${concrete}`);
      }
    }
    expect([...routed].filter((r) => !documented.has(r)), 'routes missing from the document').to.deep.equal([]);
    expect([...documented].filter((r) => !routed.has(r)), 'documented routes nobody answers').to.deep.equal([]);
    expect(routed.size).to.be.greaterThan(20);
  });

  it('gives every operation an id, a summary and answers; every schema compiles as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false });
    formats.default(ajv);
    const ids = new Set<string>();
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const what = `${method} ${path}`;
        expect(operation.operationId, what).to.be.a('string');
        expect(ids.has(operation.operationId), `${what} id is unique`).to.equal(false);
        ids.add(operation.operationId);
        expect(operation.summary, what).to.be.a('string').that.is.not.empty;
        expect(Object.keys(operation.responses), what).to.not.be.empty;
        for (const media of Object.values<any>(operation.requestBody?.content ?? {})) ajv.compile(media.schema);
        for (const parameter of operation.parameters ?? []) ajv.compile(parameter.schema);
        for (const name of (path.match(/\{([A-Za-z_]+)\}/g) ?? []).map((p) => p.slice(1, -1))) {
          expect(operation.parameters.some((p: any) => p.in === 'path' && p.name === name), `${what} declares {${name}}`).to.equal(true);
        }
      }
    }
  });

  it('names the error codes of the sign-in flows with the statuses the routes send them with', () => {
    const change = document.paths['/auth/password'].post.responses;
    expect(change['403'].description).to.include('current_password_wrong');
    expect(change['400'].description).to.include('password_rejected');
    expect(document.paths['/auth/reset'].post.responses['400'].description).to.include('invalid_link').and.include('password_rejected');
  });

  it('shows the very schemas the routes validate with', () => {
    expect(document.paths['/modules/{module}/records'].post.requestBody.content['application/json'].schema).to.deep.equal(JSON.parse(JSON.stringify(createRecordSchema)));
    const filter = document.paths['/modules/{module}/records'].get.parameters.find((p: any) => p.name === 'filter');
    expect(filter).to.deep.include({ in: 'query', style: 'deepObject', explode: true });
    expect(filter.schema).to.deep.equal(JSON.parse(JSON.stringify(listQuerySchema.properties.filter)));
    const upload = document.paths['/modules/{module}/records/{id}/documents'].post;
    expect(Object.keys(upload.requestBody.content)).to.deep.equal(['multipart/form-data']);
    expect(upload.parameters.some((p: any) => p.in === 'header' && p.name === 'x-requested-with')).to.equal(true);
    // Too many files at once: the code, and how long to wait.
    expect(upload.responses['429'].description).to.include('`too_many_uploads`');
    expect(upload.responses['429'].headers['Retry-After'].schema).to.deep.equal({ type: 'integer', const: UPLOAD_RETRY_AFTER });
    expect(upload.responses['429'].content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/Error' });
    const login = document.paths['/auth/login'].post.requestBody.content['application/json'].schema;
    expect(login.properties.remember.type).to.deep.equal(['boolean', 'null']);
  });

  describe('answers as documented', () => {
    const generic = new Set(['not_signed_in', 'not_found', 'not_allowed', 'invalid_input']);
    let ajv: Ajv2020;
    before(() => {
      // With the formats: a `date-time` answer must be one.
      ajv = new Ajv2020({ strict: false, allErrors: true });
      formats.default(ajv);
      ajv.addSchema({ $id: 'doc', components: document.components });
    });

    /** The answer's status is documented for the operation, with its media type, a body its schema takes, and (for an error) its code named. */
    function conforms(method: string, path: string, answer: Answer): void {
      const what = `${method} ${path} → ${answer.status} ${answer.text.slice(0, 200)}`;
      const operation = document.paths[path]?.[method.toLowerCase()];
      expect(operation, `${method} ${path} is documented`).to.be.an('object');
      const response = operation.responses[String(answer.status)];
      expect(response, `${what}: status documented`).to.be.an('object');
      const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const documented = Object.keys(response.content ?? {});
      if (documented.length === 0) {
        expect(answer.text, `${what}: documented without a body`).to.equal('');
        return;
      }
      expect(documented.some((m) => m === '*/*' || m === mediaType || (m.endsWith('/*') && mediaType.startsWith(m.slice(0, -1)))), `${what}: ${mediaType} among ${documented}`).to.equal(true);
      if (mediaType !== 'application/json') return;
      const schema = JSON.parse(JSON.stringify(response.content['application/json'].schema).replaceAll('"#/components/', '"doc#/components/'));
      const validate = ajv.compile(schema);
      expect(validate(answer.body), `${what}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
      if (answer.status >= 400 && !generic.has(answer.body.error.code)) expect(response.description, what).to.include(`\`${answer.body.error.code}\``);
    }

    const raw = async (method: string, path: string, init: { cookie?: string; type?: string; body?: string } = {}): Promise<Answer> => {
      const headers: Record<string, string> = {};
      if (init.cookie) headers.cookie = init.cookie;
      if (init.type) headers['content-type'] = init.type;
      const res = await fetch(`${t.url}${API}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }), redirect: 'manual' });
      const text = await res.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      return { status: res.status, headers: res.headers, text, body };
    };

    it('documents every answer a customer’s reads get, in every module of the menu, formats included', async () => {
      const jane = await signedIn(t, JANE);
      let checked = 0;
      const check = async (path: string, concrete: string) => {
        conforms('GET', path, await jane.get(concrete));
        checked += 1;
      };
      await check('/', '');
      await check('/me', '/me');
      await check('/modules', '/modules');
      for (const module of (await jane.get('/modules')).body.modules.map((m: { name: string }) => m.name)) {
        await check('/modules/{module}/records', `/modules/${module}/records`);
        await check('/modules/{module}/fields', `/modules/${module}/fields`);
        await check('/modules/{module}/export.csv', `/modules/${module}/export.csv`);
        for (const row of (await jane.get(`/modules/${module}/records?pageSize=3`)).body.rows ?? []) {
          await check('/modules/{module}/records/{id}', `/modules/${module}/records/${row.id}`);
          await check('/modules/{module}/records/{id}/comments', `/modules/${module}/records/${row.id}/comments`);
          await check('/modules/{module}/records/{id}/documents', `/modules/${module}/records/${row.id}/documents?page=1`);
        }
      }
      expect(checked).to.be.greaterThan(50);
      const ticket = (await jane.get('/modules/HelpDesk/records')).body.rows[0];
      const current = (await jane.get(`/modules/HelpDesk/records/${ticket.id}`)).body;
      conforms('PATCH', '/modules/{module}/records/{id}', await jane.send('PATCH', `/modules/HelpDesk/records/${ticket.id}`, { values: { description: 'Checked against the document' }, version: current.version }));
      conforms('PATCH', '/modules/{module}/records/{id}', await jane.send('PATCH', `/modules/HelpDesk/records/${ticket.id}`, { values: { description: 'Stale' }, version: current.version }));
      conforms('POST', '/modules/{module}/records/{id}/comments', await jane.send('POST', `/modules/HelpDesk/records/${ticket.id}/comments`, { body: 'Documented' }));
    });

    it('documents the refusals every JSON write shares: not JSON, unparseable, too large, and a path that is not valid percent-encoding', async () => {
      const jane = await signedIn(t, JANE);
      const ticket: number = (await jane.get('/modules/HelpDesk/records')).body.rows[0].id;
      const records = '/modules/{module}/records';
      const form = await raw('POST', '/modules/HelpDesk/records', { cookie: jane.cookie, type: 'application/x-www-form-urlencoded', body: 'values=1' });
      expect(form.status).to.equal(415);
      conforms('POST', records, form);
      const broken = await raw('POST', '/modules/HelpDesk/records', { cookie: jane.cookie, type: 'application/json', body: '{"values":' });
      expect(broken.status).to.equal(400);
      conforms('POST', records, broken);
      const large = await raw('POST', '/modules/HelpDesk/records', { cookie: jane.cookie, type: 'application/json', body: JSON.stringify({ values: { description: 'x'.repeat(1_100_000) } }) });
      expect(large.status).to.equal(413);
      conforms('POST', records, large);
      // Logout, a delete and "OK, resolved" take no body, and still must say JSON.
      conforms('POST', '/auth/logout', await raw('POST', '/auth/logout'));
      const remove = await raw('DELETE', `/modules/HelpDesk/records/${ticket}`, { cookie: jane.cookie });
      expect(remove.status).to.equal(415);
      conforms('DELETE', '/modules/{module}/records/{id}', remove);
      conforms('POST', '/tickets/{id}/resolve', await raw('POST', `/tickets/${ticket}/resolve`, { cookie: jane.cookie }));
      conforms('POST', '/auth/login', await raw('POST', '/auth/login', { type: 'application/x-www-form-urlencoded', body: 'email=a&password=b' }));
      conforms('POST', '/auth/login', await raw('POST', '/auth/login', { type: 'application/json', body: '{' }));
      const resolveExtra = await jane.send('POST', `/tickets/${ticket}/resolve`, { x: 1 });
      expect(resolveExtra.status).to.equal(422);
      conforms('POST', '/tickets/{id}/resolve', resolveExtra);
      const undecodable = await jane.get('/modules/%E0%A4%A/records/1');
      expect(undecodable.status).to.equal(400);
      conforms('GET', '/modules/{module}/records/{id}', undecodable);
    });

    it('documents the sign-in bodies the routes validate (nulls included) and the JSON answer of a recovery request', async () => {
      const body = (path: string) => document.paths[path].post.requestBody.content['application/json'].schema;
      expect(body('/auth/password')).to.deep.equal(toOpenApiSchema(changeSchema));
      expect(body('/auth/reset')).to.deep.equal(toOpenApiSchema(resetSchema));
      expect(body('/auth/forgot')).to.deep.equal(toOpenApiSchema(forgotSchema));
      expect(body('/auth/two-factor')).to.deep.equal(toOpenApiSchema(codeSchema));
      const withNull = { token: 'no-such-token', newPassword: 'Another-pass-77x', confirmPassword: null };
      expect(ajv.compile(body('/auth/reset'))(withNull), 'the document takes a null confirmation').to.equal(true);
      const reset = await apiClient(t).send('POST', '/auth/reset', withNull);
      expect(reset.body.error.code, 'the server takes it too').to.equal('invalid_link');
      conforms('POST', '/auth/reset', reset);
      const mario = await signedIn(t, MARIO);
      const change = await mario.send('POST', '/auth/password', { currentPassword: null, newPassword: 'Another-pass-77x' });
      expect(change.status).to.equal(403);
      conforms('POST', '/auth/password', change);
      const forgot = await apiClient(t).send('POST', '/auth/forgot', { email: 'nobody@example.com' });
      expect(forgot.status).to.equal(202);
      conforms('POST', '/auth/forgot', forgot);
    });

    it('documents a download’s own content type, a blank comment’s refusal and the filter by reference id', async () => {
      const jane = await signedIn(t, JANE);
      const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'OpenAPI audit' } });
      conforms('POST', '/modules/{module}/records', created);
      const upload = await jane.upload(`/modules/HelpDesk/records/${created.body.id}/documents`, { name: 'notes.txt', content: 'hello\n' });
      conforms('POST', '/modules/{module}/records/{id}/documents', upload);
      const download = await jane.get(upload.body.contentPath);
      expect(download.headers.get('content-type')).to.match(/^text\/plain/);
      conforms('GET', '/documents/{id}/content', download);
      const commentBody = document.paths['/modules/{module}/records/{id}/comments'].post.requestBody.content['application/json'].schema;
      expect(ajv.compile(commentBody)({ body: '   ' }), 'the document refuses a blank comment').to.equal(false);
      const blank = await jane.send('POST', `/modules/HelpDesk/records/${created.body.id}/comments`, { body: '   ' });
      expect(blank.status).to.equal(422);
      // Spaces only: missing, said as for an absent body.
      expect(blank.body.error.problems).to.deep.equal([{ field: 'body', code: 'required', message: 'This field is required.' }]);
      conforms('POST', '/modules/{module}/records/{id}/comments', blank);
      // Invisible characters only (zero-width space, word joiner): as blank to a person reading it.
      expect(ajv.compile(commentBody)({ body: '\u200B\u2060 ' }), 'the document refuses an invisible comment').to.equal(false);
      const invisible = await jane.send('POST', `/modules/HelpDesk/records/${created.body.id}/comments`, { body: '\u200B\u2060 ' });
      expect(invisible.status).to.equal(422);
      expect(invisible.body.error.problems).to.deep.equal([{ field: 'body', code: 'required', message: 'This field is required.' }]);
      const filter = document.paths['/modules/{module}/records'].get.parameters.find((p: any) => p.name === 'filter');
      expect(filter.description).to.include('reference equals a record id');
      const byContact = await jane.get(`/modules/HelpDesk/records?filter[contact_id]=${created.body.values.contact_id}`);
      expect(byContact.status).to.equal(200);
      conforms('GET', '/modules/{module}/records', byContact);
      await changeModule(t.host.api, 'Accounts', (entry) => ({ ...entry, tools: { ...entry.tools, search: false } }));
      const noSearch = await jane.get('/modules/Accounts/records?filter[accountname]=Acme');
      expect(noSearch.status).to.equal(403);
      conforms('GET', '/modules/{module}/records', noSearch);
    });

    it('documents the 409 of “OK, resolved” on a ticket the CRM changed between each of its reads and writes', async () => {
      const jane = await signedIn(t, JANE);
      const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Changed meanwhile' } });
      const records = t.host.api.records;
      const update = records.update.bind(records);
      let raced = 0;
      // A CRM user saves the ticket just after the portal read it, every time: each write holds a stale
      // version. (Once is not enough: the portal reads the ticket again and retries, up to three times.)
      records.update = async (module, id, input, options) => {
        if (module === 'HelpDesk' && id === created.body.id && options?.expectedVersion !== undefined) {
          raced++;
          await update(module, id, { values: { priority: raced % 2 === 0 ? 'High' : 'Low' } });
        }
        return update(module, id, input, options);
      };
      try {
        const resolved = await jane.send('POST', `/tickets/${created.body.id}/resolve`, {});
        expect(raced).to.equal(3);
        expect(resolved.status).to.equal(409);
        expect(resolved.body.error.code).to.equal('stale_record');
        conforms('POST', '/tickets/{id}/resolve', resolved);
        expect(document.paths['/tickets/{id}/resolve'].post.responses['409'].description).to.include('`stale_record`');
      } finally {
        records.update = update;
      }
    });

    it('documents the 403 of a customer who must still change the generated password', async () => {
      const tom = await signedIn(t, TOM);
      await t.host.api.database.sequelize.query('UPDATE bp_portal_accounts SET must_change_password = :yes WHERE email = :email', { replacements: { yes: true, email: TOM } });
      const me = await tom.get('/me');
      expect(me.status).to.equal(200);
      expect(me.body.contact.mustChangePassword).to.equal(true);
      conforms('GET', '/me', me);
      for (const [method, path, concrete] of [['GET', '/modules', '/modules'], ['GET', '/modules/{module}/records/{id}', '/modules/HelpDesk/records/1']] as const) {
        const answer = await tom.get(concrete);
        expect(answer.body?.error?.code, concrete).to.equal('password_change_required');
        conforms(method, path, answer);
      }
      for (const operation of ['login', 'logout', 'changePassword', 'me']) {
        const found = Object.values<any>(document.paths).flatMap((ops) => Object.values<any>(ops)).find((o) => o.operationId === operation);
        expect(found.responses['403']?.description ?? '', operation).to.not.include('password_change_required');
      }
    });
  });
});

