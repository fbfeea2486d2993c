/**
 * The OpenAPI document against the router: every API route the portal router answers is in the
 * document and every operation of the document is answered (both found by walking, not listed by
 * hand), and the request schemas in it are the ones the routes validate with.
 */
import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { mountedRoutes } from '../security/route-walk.js';
import { createRecordSchema, listQuerySchema } from '../../plugin/portal/api/api-schemas.js';
import { API, apiClient } from './api-test-kit.js';

describe('portal API: OpenAPI document', function () {
  this.timeout(120_000);
  let t: TestHost;
  let document: any;

  before(async () => {
    t = await startTestHost();
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
    const login = document.paths['/auth/login'].post.requestBody.content['application/json'].schema;
    expect(login.properties.remember.type).to.deep.equal(['boolean', 'null']);
  });
});
