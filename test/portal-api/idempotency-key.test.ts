/**
 * `Idempotency-Key` on the API's writes that make something (a record — a ticket —, a comment), as
 * the IETF httpapi draft has it: the same key with the same body, again or at the same moment,
 * gets the first answer and makes nothing more; the same key with another body is a 422; a key
 * another customer used is theirs, not this one's; a malformed key is a 400; without the header
 * the write is served as ever. Documented in the OpenAPI document.
 */
import { expect } from 'chai';
import { API, JANE, MARIO, idsWhere, signedIn, startApiHost, type Answer, type ApiClient } from './api-test-kit.js';
import type { TestHost } from '../support/host.js';

describe('portal API: Idempotency-Key on writes that make something @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: ApiClient;
  let mario: ApiClient;

  before(async () => {
    test = await startApiHost();
    jane = await signedIn(test, JANE);
    mario = await signedIn(test, MARIO);
  });
  after(async () => {
    await test?.stop();
  });

  async function post(client: ApiClient, path: string, body: unknown, key?: string): Promise<Answer> {
    const res = await fetch(`${test.url}${API}${path}`, {
      method: 'POST',
      headers: { cookie: client.cookie, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
  }

  const ticket = (title: string) => ({ values: { ticket_title: title } });
  const titled = (title: string) => idsWhere(test.host.api, 'HelpDesk', 'ticket_title', title);

  it('creates one ticket for a key sent twice, and gives the first answer again', async () => {
    const first = await post(jane, '/modules/HelpDesk/records', ticket('Idempotent ticket'), '"a3c1e6f0-5b0e-4d0e-9c57-1f1f1f1f1f1f"');
    const again = await post(jane, '/modules/HelpDesk/records', ticket('Idempotent ticket'), '"a3c1e6f0-5b0e-4d0e-9c57-1f1f1f1f1f1f"');
    expect(first.status).to.equal(201);
    expect(again.status).to.equal(201);
    expect(again.body).to.deep.equal(first.body);
    expect(again.headers.get('location')).to.equal(first.headers.get('location'));
    expect(await titled('Idempotent ticket')).to.have.length(1);
  });

  it('creates one ticket when the same key is sent at the same moment', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => post(jane, '/modules/HelpDesk/records', ticket('Idempotent at once'), 'at-once-1')));
    expect(await titled('Idempotent at once')).to.have.length(1);
    for (const answer of answers) {
      expect(answer.status, answer.text).to.equal(201);
      expect(answer.body.id).to.equal(answers[0]!.body.id);
    }
  });

  it('refuses the same key with another body (422), and a malformed key (400), making nothing', async () => {
    await post(jane, '/modules/HelpDesk/records', ticket('Key reused, first'), 'reused-key');
    const reused = await post(jane, '/modules/HelpDesk/records', ticket('Key reused, second'), 'reused-key');
    expect(reused.status).to.equal(422);
    expect(reused.body.error.code).to.equal('idempotency_key_reused');
    expect(await titled('Key reused, second')).to.have.length(0);
    for (const bad of ['', '"unterminated', 'x'.repeat(256), 'with space']) {
      const answer = await post(jane, '/modules/HelpDesk/records', ticket('Malformed key'), bad);
      expect(answer.status, JSON.stringify(bad)).to.equal(400);
      expect(answer.body.error.code).to.equal('invalid_idempotency_key');
    }
    expect(await titled('Malformed key')).to.have.length(0);
  });

  it('keeps one customer’s key theirs: another customer with the same key gets their own work done', async () => {
    const janes = await post(jane, '/modules/HelpDesk/records', ticket('Shared key'), 'shared-key');
    const marios = await post(mario, '/modules/HelpDesk/records', ticket('Shared key'), 'shared-key');
    expect(marios.status).to.equal(201);
    expect(marios.body.id).not.to.equal(janes.body.id);
    expect(JSON.stringify(marios.body)).not.to.include('Jane');
  });

  it('keeps no refusal: the same key works once the body is right', async () => {
    const refused = await post(jane, '/modules/HelpDesk/records', { values: { ticket_title: 'Refused first', no_such_field: 1 } }, 'after-refusal');
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal('invalid_input');
    const sent = await post(jane, '/modules/HelpDesk/records', ticket('Sent after a refusal'), 'after-refusal');
    expect(sent.status, sent.text).to.equal(201);
    expect(await titled('Sent after a refusal')).to.have.length(1);
  });

  it('adds one comment for a key sent twice; without a key the write is served as ever', async () => {
    const created = await post(jane, '/modules/HelpDesk/records', ticket('Commented idempotently'));
    const id = created.body.id as number;
    const first = await post(jane, `/modules/HelpDesk/records/${id}/comments`, { body: 'Only once, please' }, 'comment-key');
    const again = await post(jane, `/modules/HelpDesk/records/${id}/comments`, { body: 'Only once, please' }, 'comment-key');
    expect(first.status).to.equal(201);
    expect(again.body).to.deep.equal(first.body);
    await post(jane, `/modules/HelpDesk/records/${id}/comments`, { body: 'No key' });
    await post(jane, `/modules/HelpDesk/records/${id}/comments`, { body: 'No key' });
    const comments = await test.host.records.comments('HelpDesk', id, { includeInternal: true });
    expect(comments.filter((c) => c.body === 'Only once, please')).to.have.length(1);
    expect(comments.filter((c) => c.body === 'No key')).to.have.length(2);
  });

  it('documents the header and its answers in the OpenAPI document', async () => {
    const document = (await jane.get('/openapi.json')).body;
    for (const [path, operation] of [['/modules/{module}/records', 'post'], ['/modules/{module}/records/{id}/comments', 'post']] as const) {
      const described = document.paths[path][operation];
      expect(described.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), path).to.include('header:Idempotency-Key');
      expect(described.responses['409'].description).to.include('idempotency_key_in_use');
      expect(described.responses['422'].description).to.include('idempotency_key_reused');
    }
  });
});
