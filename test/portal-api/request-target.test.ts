/**
 * A request line may name the whole URL (absolute-form, `GET http://host/path?query HTTP/1.1`,
 * RFC 9112 §3.2.2): what clients send to a proxy, and any client may send it to the host. Node and
 * Express route it by its path. The API read its query by parsing that whole text as a URL, which
 * throws on an authority the WHATWG parser refuses (`http://a:99999/…`, a port past 65535): the
 * list, the export, the comments and the documents answered 500. They answer as for the path.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { API, JANE, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

/** GET with the request line's target as given, verbatim. */
function getTarget(test: TestHost, target: string, cookie: string): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(test.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, method: 'GET', headers: { cookie } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('portal API: a request line with the whole URL', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
  });
  after(async () => t?.stop());

  it('answers the list, the export, the comments and the documents as for their path, whatever the authority', async () => {
    const ticket: number = (await jane.get('/modules/HelpDesk/records')).body.rows[0].id;
    const paths = [
      '/modules/HelpDesk/records?sort=ticket_no&direction=asc',
      '/modules/HelpDesk/export.csv?sort=ticket_no',
      `/modules/HelpDesk/records/${ticket}/comments?page=1`,
      `/modules/HelpDesk/records/${ticket}/documents?page=1`,
    ];
    for (const path of paths) {
      const expected = await getTarget(t, `${API}${path}`, jane.cookie);
      expect(expected.status, path).to.equal(200);
      for (const authority of ['http://a:99999', 'http://localhost']) {
        const answer = await getTarget(t, `${authority}${API}${path}`, jane.cookie);
        expect(answer.status, `${authority}${path}`).to.equal(200);
        expect(answer.type, `${authority}${path}`).to.equal(expected.type);
        // The same query read: the same answer (the export's file name has the day, as the other's).
        expect(answer.body, `${authority}${path}`).to.equal(expected.body);
      }
    }
    // The query is still read, a key twice refused as before.
    const twice = await getTarget(t, `http://a:99999${API}/modules/HelpDesk/records?search=a&search=b`, jane.cookie);
    expect(twice.status).to.equal(400);
    expect(JSON.parse(twice.body).error.code).to.equal('invalid_input');
  });
});
