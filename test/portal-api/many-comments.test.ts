/**
 * A ticket with years of conversation through the portal API: all of its public comments (and all
 * of its files) without `page` are read and written a batch at a time (`ALL_BATCH`), never as one
 * read of every row held whole in the process; the answer is still every one of them, newest first,
 * with their count, and the internal ones never.
 */
import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { ALL_BATCH } from '../../plugin/access/portal-access.js';
import type { TestHost } from '../support/host.js';
import { JANE, idsWhere, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

describe('Portal API: all comments and files of a ticket with thousands of them', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let ticket: number;
  let sequelize: Sequelize;
  /** How many rows each SELECT of comments or documents answered, while `counting`. */
  let answered: number[] = [];
  let counting = false;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
    ticket = (await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
    sequelize = t.host.api.database.sequelize;
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = async (sql, options) => {
      const result = await original(sql, options);
      if (counting && typeof sql === 'string' && /^\s*SELECT/i.test(sql) && /\b(crm_comments|mod_documents)\b/.test(sql) && !/COUNT\(/i.test(sql) && Array.isArray(result)) {
        answered.push(result.length);
      }
      return result;
    };
  });
  after(async () => t?.stop());

  async function counted<T>(read: () => Promise<T>): Promise<T> {
    answered = [];
    counting = true;
    try {
      return await read();
    } finally {
      counting = false;
    }
  }

  it('answers every public comment, newest first, reading them a batch at a time', async () => {
    // 2,600 comments a second apart, one in five internal.
    const start = Date.now() - 10 * 86_400_000;
    for (let batch = 0; batch < 4; batch++) {
      const rows = Array.from({ length: 650 }, (_, i) => {
        const n = batch * 650 + i;
        return `('HelpDesk', ${ticket}, 'Comment number ${n}${n % 5 === 0 ? ' INTERNAL-CANARY' : ''}', ${n % 5 === 0 ? 'TRUE' : 'FALSE'}, 'user', 1, :at${i})`;
      });
      const replacements = Object.fromEntries(Array.from({ length: 650 }, (_, i) => [`at${i}`, new Date(start + (batch * 650 + i) * 1000)]));
      await sequelize.query(`INSERT INTO crm_comments (module, record_id, body, internal, author_kind, author_id, created_at) VALUES ${rows.join(', ')}`, { replacements });
    }
    const publicCount = await t.host.api.records.commentCount('HelpDesk', ticket, { includeInternal: false });
    expect(publicCount).to.be.greaterThan(2 * ALL_BATCH);

    const res = await counted(() => jane.get(`/modules/HelpDesk/records/${ticket}/comments`));
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json; charset=utf-8/);
    expect(res.text).not.to.include('INTERNAL-CANARY');
    expect(res.body.count).to.equal(publicCount).and.to.equal(res.body.comments.length);
    const ids = res.body.comments.map((c: { id: number }) => c.id);
    expect(new Set(ids).size).to.equal(ids.length);
    const times = res.body.comments.map((c: { createdAt: string }) => Date.parse(c.createdAt));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    const numbered = res.body.comments.map((c: { body: string }) => c.body).filter((body: string) => body.startsWith('Comment number '));
    expect(numbered.slice(0, 2)).to.deep.equal(['Comment number 2599', 'Comment number 2598']);
    expect(numbered).to.have.length(2080);
    expect(Object.keys(res.body)).to.deep.equal(['comments', 'count']);
    // Never every comment in one read: a batch at a time.
    expect(answered.length, String(answered)).to.be.greaterThan(1);
    expect(Math.max(...answered), String(answered)).to.be.at.most(ALL_BATCH);

    // The pages the API gives when asked agree with the whole.
    const page = await jane.get(`/modules/HelpDesk/records/${ticket}/comments?page=2&pageSize=100`);
    expect(page.body.comments.map((c: { id: number }) => c.id)).to.deep.equal(ids.slice(100, 200));
  });

  it('answers every file, newest first, reading them a batch at a time', async () => {
    for (let n = 0; n < ALL_BATCH + 50; n++) {
      await t.host.api.records.attachDocument('HelpDesk', ticket, { title: `Log ${n}`, fileName: `log-${n}.txt`, mimeType: 'text/plain', content: Buffer.from(`line ${n}\n`) });
    }
    const count = await t.host.api.records.documentCount!('HelpDesk', ticket);
    const res = await counted(() => jane.get(`/modules/HelpDesk/records/${ticket}/documents`));
    expect(res.status).to.equal(200);
    expect(res.body.count).to.equal(count).and.to.equal(res.body.documents.length);
    const ids = res.body.documents.map((d: { id: number }) => d.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(res.body.documents[0].title).to.equal(`Log ${ALL_BATCH + 49}`);
    expect(answered.length, String(answered)).to.be.greaterThan(1);
    expect(Math.max(...answered), String(answered)).to.be.at.most(ALL_BATCH);
  });

  it('refuses, as JSON, a ticket out of the customer’s scope before writing a byte', async () => {
    const res = await jane.get('/modules/HelpDesk/records/999999/comments');
    expect(res.status).to.equal(404);
    expect(res.body.error.code).to.equal('not_found');
  });
});
