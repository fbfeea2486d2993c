/**
 * A request line whose URL the router cannot read (`GET http://[/portal/m/HelpDesk`) never
 * reaches a route: Express's router ends it before its first middleware. Its answer carries the
 * headers every response of the host carries (SECURITY.md), as any other refusal does.
 */
import { connect } from 'node:net';
import { expect } from 'chai';
import { startTestHost, type TestHost } from '../support/host.js';
import { expectSecurityHeaders } from '../support/expectations.js';

/** One raw HTTP/1.1 request line and its answer, parsed into a `Response`. */
async function rawRequest(url: string, requestLine: string): Promise<Response> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(`${requestLine}\r\nHost: crm.test\r\nConnection: close\r\n\r\n`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
  const all = Buffer.concat(chunks).toString('latin1');
  const end = all.indexOf('\r\n\r\n');
  expect(end, `an answer to ${requestLine}`).to.be.greaterThan(0);
  const [status, ...lines] = all.slice(0, end).split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return new Response(all.slice(end + 4), { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(status ?? '')?.[1]), headers });
}

describe('reference host: a request line whose URL cannot be read @db', function () {
  this.timeout(60_000);
  let test: TestHost;

  before(async () => {
    test = await startTestHost();
  });
  after(async () => test?.stop());

  for (const line of ['GET http://[/portal/m/HelpDesk HTTP/1.1', 'GET http://[/settings HTTP/1.1', 'POST http://[/portal/api/v1/auth/login HTTP/1.1', 'HEAD http://[/ HTTP/1.1']) {
    it(`answers ${line} with a 400 that carries every security header`, async () => {
      const response = await rawRequest(test.url, line);
      expect(response.status).to.equal(400);
      expectSecurityHeaders(response, line);
      expect(response.headers.get('x-frame-options')).to.equal('DENY');
      expect(response.headers.get('x-powered-by')).to.equal(null);
      const body = await response.text();
      expect(body).not.to.include('Cannot');
      if (line.startsWith('HEAD')) expect(body).to.equal('');
    });
  }

  it('still answers a readable request as before', async () => {
    const response = await fetch(`${test.url}/healthz`);
    expect(response.status).to.equal(200);
    expectSecurityHeaders(response, '/healthz');
  });
});
