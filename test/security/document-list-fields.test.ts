/**
 * The Documents fields a profile hides, against everything that shows a file without showing its
 * Documents record: the documents tool of a ticket (its API list and its page), a Documents
 * record's own download button, and the download's name.
 */
import { expect } from 'chai';
import type { ConditionalRule } from '../../plugin/profiles/profile-document.js';
import { tokenIn, type PortalClient } from '../sign-in/sign-in-fixture.js';
import type { TestHost } from '../support/host.js';
import { signedIn as pagesSignedIn } from '../portal-pages/portal-pages-kit.js';
import { JANE, changeModule, defaultProfile, idsWhere, signedIn, startApiHost, type ApiClient } from '../portal-api/api-test-kit.js';

const SECRET_TITLE = 'Churn risk of Acme (internal)';
const SECRET_NAME = 'acme-churn-risk-internal.txt';
/** 1234 bytes: the page writes it "1.2 KB". */
const CONTENT = 'x'.repeat(1234);
const FILE_FIELDS = ['title', 'filename', 'filesize', 'mimetype'] as const;
const AGREEMENT = 'acme-master-service-agreement.pdf';

describe('security: the Documents fields a profile hides, wherever a file is shown @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let janePages: PortalClient;
  let ticket: number;
  let documentId: number;
  let agreement: number;

  /** The Documents fields hidden by the Default profile (the others read-write); Documents on the menu or not. */
  const hideOnDocuments = async (hidden: readonly string[], shown = true) =>
    changeModule(t.host.api, 'Documents', (entry) => ({
      ...entry,
      shown,
      fields: { ...entry.fields, ...Object.fromEntries(FILE_FIELDS.map((f) => [f, hidden.includes(f) ? 'hidden' : 'readwrite'])) },
      listColumns: ['title', 'folder'],
    }));
  const setRules = async (...rules: ConditionalRule[]) => (await defaultProfile(t.host.api)).save('rules', rules);

  before(async () => {
    t = await startApiHost();
    const api = t.host.api;
    const janeId = (await idsWhere(api, 'Contacts', 'email', JANE))[0]!;
    const acme = (await idsWhere(api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
    ticket = (await api.records.create('HelpDesk', { values: { ticket_title: 'Files', status: 'Open', priority: 'Normal', contact_id: janeId, account_id: acme } })).id;
    documentId = (await api.records.attachDocument('HelpDesk', ticket, { title: SECRET_TITLE, fileName: SECRET_NAME, mimeType: 'text/plain', content: Buffer.from(CONTENT) })).documentId;
    agreement = (await idsWhere(api, 'Documents', 'filename', AGREEMENT))[0]!;
    await changeModule(api, 'HelpDesk', (entry) => ({ ...entry, shown: true, view: true, tools: { ...entry.tools, documents: true } }));
    jane = await signedIn(t, JANE);
    janePages = await pagesSignedIn(t, JANE);
  });
  afterEach(async () => {
    await setRules();
    await hideOnDocuments([]);
  });
  after(async () => t?.stop());

  const leaks = (text: string) => [SECRET_TITLE, SECRET_NAME, 'acme-churn-risk'].filter((secret) => text.includes(secret));

  it('lists a ticket’s files without the Documents fields the profile hides (API, all and paged, and the page)', async () => {
    const path = `/modules/HelpDesk/records/${ticket}/documents`;
    // Shown first: the test sees the values it then looks for.
    const shown = await jane.get(path);
    expect(shown.status, shown.text).to.equal(200);
    expect(shown.body.documents.find((d: any) => d.id === documentId)).to.include({ title: SECRET_TITLE, fileName: SECRET_NAME, mimeType: 'text/plain', size: 1234 });

    // Documents on the menu or not: the fields are hidden all the same.
    for (const shownOnMenu of [true, false]) {
      await hideOnDocuments(FILE_FIELDS, shownOnMenu);
      for (const asked of [path, `${path}?page=1`, `${path}?pageSize=5`]) {
        const list = await jane.get(asked);
        expect(list.status, list.text).to.equal(200);
        expect(leaks(list.text), asked).to.deep.equal([]);
        const file = list.body.documents.find((d: any) => d.id === documentId);
        expect(file, asked).to.include({ contentPath: `/documents/${documentId}/content` });
        for (const key of ['title', 'fileName', 'mimeType', 'size']) expect(file, `${asked}: ${key}`).not.to.have.property(key);
      }

      const page = await janePages.get(`/m/HelpDesk/${ticket}`);
      expect(page.response.status).to.equal(200);
      const panel = /<section id="bp-documents"[\s\S]*?<\/section>/.exec(page.html)?.[0] ?? '';
      expect(panel, 'the documents panel').to.contain(`/portal/m/HelpDesk/${ticket}/documents/${documentId}`);
      expect(leaks(page.html)).to.deep.equal([]);
      expect(panel).not.to.contain('1.2 KB');
      // Named by its number instead.
      expect(panel).to.contain(`>Document ${documentId}</a>`);
    }
  });

  it('hides a file’s name in the list where a rule hides it on that Documents record only', async () => {
    const record = await t.host.api.records.get('Documents', documentId);
    await t.host.api.records.update('Documents', documentId, { values: { folder: 'Internal' } }, { actor: { kind: 'system' }, expectedVersion: record!.version });
    await setRules({ name: 'Internal files', module: 'Documents', origin: { kind: 'portal' }, conditions: [{ field: 'folder', op: 'eq', value: 'Internal' }], effects: [{ field: 'filename', effect: 'hidden' }], allReadOnly: false });
    const list = await jane.get(`/modules/HelpDesk/records/${ticket}/documents`);
    expect(list.status, list.text).to.equal(200);
    const file = list.body.documents.find((d: any) => d.id === documentId);
    expect(file).not.to.have.property('fileName');
    expect(file).to.include({ title: SECRET_TITLE });
    expect(list.text).not.to.contain(SECRET_NAME);
    const page = await janePages.get(`/m/HelpDesk/${ticket}`);
    expect(page.html).not.to.contain(SECRET_NAME);
    expect(page.html).to.contain(SECRET_TITLE);
  });

  it('names the download of a file whose name is hidden by its id and type, not by that name', async () => {
    await hideOnDocuments(['filename']);
    const api = await jane.get(`/documents/${documentId}/content`);
    const page = await janePages.get(`/m/HelpDesk/${ticket}/documents/${documentId}`);
    for (const [route, status, disposition, body] of [
      ['api', api.status, api.headers.get('content-disposition'), api.text],
      ['page', page.response.status, page.response.headers.get('content-disposition'), page.html],
    ] as const) {
      expect(status, route).to.equal(200);
      expect(body, route).to.equal(CONTENT);
      expect(disposition, route).to.equal(`attachment; filename="document-${documentId}.txt"; filename*=UTF-8''document-${documentId}.txt`);
    }
    await hideOnDocuments([]);
    expect((await jane.get(`/documents/${documentId}/content`)).headers.get('content-disposition')).to.contain(SECRET_NAME);
  });

  it('offers a Documents record’s own file without the name and size the profile hides', async () => {
    await hideOnDocuments(['filename', 'filesize']);
    const { response, html } = await janePages.get(`/m/Documents/${agreement}`);
    expect(response.status).to.equal(200);
    expect(html, 'the download button').to.contain(`/portal/m/Documents/${agreement}/documents/${agreement}`);
    expect(html).not.to.contain('acme-master-service-agreement');
    expect(html).not.to.match(/data-download-details>[^<]*\d (B|KB)</);
  });

  it('keeps a title typed with an upload out of a Documents title the profile hides or makes read-only (API and page), and asks for none', async () => {
    const titleOf = async (id: number) => (await t.host.api.records.get('Documents', id))!.values.title;
    const onPage = async (title: string, name: string) => {
      const form = new FormData();
      form.set('_csrf', tokenIn((await janePages.get(`/m/HelpDesk/${ticket}`)).html));
      form.set('title', title);
      form.set('file', new Blob(['page upload'], { type: 'text/plain' }), name);
      const res = await fetch(`${t.url}/portal/m/HelpDesk/${ticket}/documents`, { method: 'POST', redirect: 'manual', headers: { cookie: janePages.cookieHeader() }, body: form });
      expect(res.status, name).to.equal(303);
      return Math.max(...(await t.host.api.records.documents('HelpDesk', ticket)).map((d) => d.documentId));
    };
    for (const access of ['hidden', 'readonly', 'readwrite'] as const) {
      await changeModule(t.host.api, 'Documents', (entry) => ({ ...entry, fields: { ...entry.fields, title: access } }));
      const typed = `Typed by Jane (${access})`;
      const api = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: `api-${access}.txt`, content: 'api upload' }, { title: typed });
      expect(api.status, api.text).to.equal(201);
      const page = await onPage(typed, `page-${access}.txt`);
      const form = (await janePages.get(`/m/HelpDesk/${ticket}`)).html;
      if (access === 'readwrite') {
        // Control: a title the customer may write is the one typed.
        expect(await titleOf(api.body.id)).to.equal(typed);
        expect(await titleOf(page)).to.equal(typed);
        expect(form).to.contain('name="title"');
      } else {
        // The file's name, as for an upload without a title; the form has no title box.
        expect(await titleOf(api.body.id), access).to.equal(`api-${access}.txt`);
        expect(await titleOf(page), access).to.equal(`page-${access}.txt`);
        expect(form, access).not.to.contain('name="title"');
      }
    }
  });
});
