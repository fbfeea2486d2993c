/**
 * Methods on the API's paths, as an integrator's client meets them: a path that exists, asked with
 * a method none of its routes answers, is a 405 naming the methods it does answer (`Allow`, the
 * same list as Express's own OPTIONS answer), never the 404 of a route that does not exist.
 * Every path is found by walking the router, so a route added later is checked too.
 */
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { mountedRoutes } from '../security/route-walk.js';
import { API, JANE, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

describe('portal API: methods a path does not answer', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
  });
  after(async () => t?.stop());

  it('answers 405 with the path’s own Allow (as OPTIONS lists it) and a JSON error, on every API path, signed in or not', async () => {
    const ticket: number = (await jane.get('/modules/HelpDesk/records')).body.rows[0].id;
    const paths = new Set(
      mountedRoutes(t.host)
        .filter((r) => r.mount === '/portal' && (r.path === API || r.path.startsWith(`${API}/`)))
        .map((r) => r.pattern.replace(':module', 'HelpDesk').replace(/:[A-Za-z_]+/g, String(ticket))),
    );
    expect(paths.size).to.be.greaterThan(15);
    const before = await t.host.api.records.get('HelpDesk', ticket);
    const problems: string[] = [];
    let refused = 0;
    for (const path of paths) {
      const options = await fetch(`${t.url}${path}`, { method: 'OPTIONS', headers: { cookie: jane.cookie } });
      await options.arrayBuffer();
      const allow = options.headers.get('allow') ?? '';
      const allowed = new Set(allow.split(', '));
      expect(options.status, `OPTIONS ${path}`).to.equal(200);
      // The API answers OPTIONS on each of its paths, so its Allow says so (RFC 9110 §10.2.1).
      expect(allowed.has('OPTIONS'), `OPTIONS ${path}: Allow ${allow}`).to.equal(true);
      for (const method of METHODS.filter((m) => !allowed.has(m))) {
        for (const cookie of [jane.cookie, '']) {
          const headers: Record<string, string> = { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) };
          const res = await fetch(`${t.url}${path}`, { method, headers, redirect: 'manual', ...(method === 'HEAD' || method === 'GET' ? {} : { body: '{}' }) });
          const text = await res.text();
          const what = `${method} ${path}${cookie ? '' : ' (no session)'}`;
          if (res.status !== 405) problems.push(`${what}: ${res.status} ${text.slice(0, 120)}`);
          else if (res.headers.get('allow') !== allow) problems.push(`${what}: Allow ${res.headers.get('allow')}, OPTIONS says ${allow}`);
          else if (!/^application\/json; charset=utf-8$/i.test(res.headers.get('content-type') ?? '')) problems.push(`${what}: ${res.headers.get('content-type')}`);
          else if (res.headers.get('cache-control') !== 'no-store') problems.push(`${what}: cache-control ${res.headers.get('cache-control')}`);
          else if (method !== 'HEAD' && JSON.parse(text).error?.code !== 'method_not_allowed') problems.push(`${what}: ${text.slice(0, 120)}`);
          else refused += 1;
        }
      }
    }
    expect(problems).to.deep.equal([]);
    expect(refused).to.be.greaterThan(40);
    // Nothing ran: the ticket a PUT and a POST were sent to is as it was.
    expect(await t.host.api.records.get('HelpDesk', ticket)).to.deep.equal(before);
  });

  it('answers 405 before reading the body: a wrong method with a body that is not JSON, unparseable or too large', async () => {
    const ticket: number = (await jane.get('/modules/HelpDesk/records')).body.rows[0].id;
    const before = await t.host.api.records.get('HelpDesk', ticket);
    const bodies: readonly { name: string; headers: Record<string, string>; body: string }[] = [
      { name: 'text/plain', headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { name: 'no type', headers: {}, body: 'hello' },
      { name: 'multipart without its header', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\ncontent-disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n' },
      { name: 'unparseable JSON', headers: { 'content-type': 'application/json' }, body: '{"values":' },
      { name: 'JSON over 1 MiB', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values: { description: 'x'.repeat(1_100_000) } }) },
    ];
    const problems: string[] = [];
    for (const [method, path, allow] of [
      ['PUT', `/modules/HelpDesk/records/${ticket}`, 'DELETE, GET, HEAD, OPTIONS, PATCH'],
      ['PATCH', `/tickets/${ticket}/resolve`, 'OPTIONS, POST'],
      ['DELETE', '/modules/HelpDesk/records', 'GET, HEAD, OPTIONS, POST'],
    ] as const) {
      for (const { name, headers, body } of bodies) {
        for (const cookie of [jane.cookie, '']) {
          const res = await fetch(`${t.url}${API}${path}`, { method, headers: { ...headers, ...(cookie ? { cookie } : {}) }, body });
          const text = await res.text();
          const what = `${method} ${path} with ${name}${cookie ? '' : ' (no session)'}`;
          if (res.status !== 405) problems.push(`${what}: ${res.status} ${text.slice(0, 120)}`);
          else if (res.headers.get('allow') !== allow) problems.push(`${what}: Allow ${res.headers.get('allow')}`);
          else if (JSON.parse(text).error?.code !== 'method_not_allowed') problems.push(`${what}: ${text.slice(0, 120)}`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
    expect(await t.host.api.records.get('HelpDesk', ticket)).to.deep.equal(before);
  });

  it('answers the 405 in the caller’s language, and keeps the 404 for a path no route answers', async () => {
    const res = await fetch(`${t.url}${API}/tickets/1/resolve`, { headers: { cookie: jane.cookie, 'accept-language': 'it' } });
    expect(res.status).to.equal(405);
    expect(res.headers.get('allow')).to.equal('OPTIONS, POST');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('method_not_allowed');
    const english = (await (await fetch(`${t.url}${API}/tickets/1/resolve`, { headers: { cookie: jane.cookie, 'accept-language': 'en' } })).json()) as { error: { message: string } };
    expect(body.error.message).to.be.a('string').that.is.not.empty.and.not.equal(english.error.message);
    for (const path of ['/no-such-route', '/modules/HelpDesk/records/1/nothing']) {
      const missing = await fetch(`${t.url}${API}${path}`, { method: 'PUT', headers: { cookie: jane.cookie, 'content-type': 'application/json' }, body: '{}' });
      expect(missing.status, path).to.equal(404);
      expect(missing.headers.get('allow'), path).to.equal(null);
      expect(((await missing.json()) as { error: { code: string } }).error.code).to.equal('not_found');
    }
  });
});
