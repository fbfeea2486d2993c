/**
 * Hostile request shapes on every route the plugin mounts (walked from the routers, so that a
 * route added later is attacked too), sent with a valid session and a valid CSRF token so that
 * they reach the handlers: repeated and bracket keys, `__proto__`, a 2 MB value, NUL bytes,
 * broken percent-encoding and lone surrogates, empty bodies and wrong content types, array query
 * parameters, HEAD and OPTIONS, overlong and odd ids. Every answer is below 500, carries no stack
 * trace nor internal message, and a refusal is a 4xx in the route's own form (a localized page,
 * or a JSON error on the API) that changed nothing in the database.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import sqlite3 from 'sqlite3';
import { SequelizeProfileStore } from '../../plugin/profiles/profile-store.js';
import { idsWhere, JANE, PASSWORD, portalLogin } from '../portal-api/api-test-kit.js';
import { dialectOf, sqliteStorage } from '../../host/database.js';
import type { ReferenceHostOptions } from '../../host/reference-host.js';
import { UPGRADED_FROM_V1 } from '../settings/settings-test-kit.js';
import { crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { mountedRoutes, type MountedRoute } from './route-walk.js';

/** In demo mode the reference host's admin has the demo password. */
const DEMO_ADMIN_PASSWORD = 'Admin-demo-1';
const API = '/portal/api/v1';
const ADMIN = '/settings/business-portal';
const TWO_MB = 'a'.repeat(2 * 1024 * 1024);

/** Numbers JavaScript reads oddly: past a double, negative zero, not a number, past any integer column. */
const ODD_NUMBERS = ['1e309', '-0', 'NaN', 'Infinity', '-1e309', '99999999999999999999', '0x1F', '１'];
/** The numeric fields of the forms and bodies (ids, versions, pages), for the odd numbers. */
const NUMERIC_FIELDS = ['version', 'revision', 'page', 'pageSize', 'id', 'profileId', 'startFrom', 'moveTo', 'userId', 'templateId', 'contactId', 'expectedVersion'];

/**
 * Routes that a valid session and token make succeed whatever the body holds, and whose success
 * ends the session the walk needs (their shapes are those of every other form route).
 */
const ENDS_THE_SESSION: ReadonlySet<string> = new Set([`POST ${API}/auth/logout`, 'POST /portal/logout']);

/**
 * The admin routes that read JSON: the privileges editor's saves (its script sends JSON) and the
 * profile import, which is also an API. Every other admin route is a form, and refuses JSON with 415.
 */
const ADMIN_JSON_ROUTES: ReadonlySet<string> = new Set([`PUT ${ADMIN}/profiles/:id/sections/:section`, `POST ${ADMIN}/profiles/import`]);

/**
 * The portal pages that take a file: their form sends multipart, and they read nothing else.
 * Every other portal page is a form that reads urlencoded only; JSON stays with the API.
 */
const PORTAL_UPLOAD_ROUTES: ReadonlySet<string> = new Set(['POST /portal/m/:module/:id/documents']);

/** The API's uploads: multipart with the upload header. Every other API write reads JSON only. */
const API_UPLOAD_ROUTES: ReadonlySet<string> = new Set([`POST ${API}/modules/:module/records/:id/documents`]);

/** What an answer must never show: stack frames, source paths, driver and engine errors. */
const INTERNALS = /\n\s+at |node:internal|node_modules|\.[jt]s:\d+|Sequelize\w*Error|SQLITE_|ER_\w+|syntax error at|TypeError|ReferenceError|RangeError|URIError|Cannot read propert|undefined is not|\[object Object\]/;

interface Shape {
  readonly what: string;
  readonly type?: string;
  readonly body?: string | Buffer;
  /** The status every route must answer, when one is owed whatever the route does. */
  readonly refused?: boolean;
  /** Headers the shape sends besides its type (an API upload's header). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Bodies for form routes (admin pages, portal pages): the token travels in the header. */
function formShapes(): Shape[] {
  const form = 'application/x-www-form-urlencoded';
  const fields = ['name', 'title', 'comment', 'body', 'email', 'language', 'version', 'description', 'ticket_title', 'value'];
  const each = (value: (name: string) => string) => fields.map(value).join('&');
  return [
    { what: 'repeated keys', type: form, body: each((n) => `${n}=a&${n}=b`) },
    { what: 'bracket keys', type: form, body: each((n) => `${n}[b]=1&${n}[]=1&${n}[0]=1`) },
    { what: 'prototype keys', type: form, body: `__proto__[polluted]=1&__proto__=1&constructor[prototype][polluted]=1&constructor=1&toString=1&hasOwnProperty=1&valueOf=1&${each((n) => `${n}=x`)}` },
    { what: 'a 2 MB value', type: form, body: `name=${TWO_MB}`, refused: true },
    { what: 'NUL bytes', type: form, body: each((n) => `${n}=a%00b`) },
    { what: 'invalid percent-encoding', type: form, body: each((n) => `${n}=%E0%A4%A&${n}%=%`) },
    { what: 'lone surrogates', type: form, body: each((n) => `${n}=%ED%A0%80x`) },
    { what: 'an empty body', type: form, body: '' },
    { what: 'no body', body: undefined },
    // A Buffer, as fetch gives a string body a type of its own (text/plain).
    { what: 'no content type', body: Buffer.from(each((n) => `${n}=x`)), refused: true },
    { what: 'text/plain', type: 'text/plain', body: each((n) => `${n}=x`), refused: true },
    { what: 'XML', type: 'application/xml', body: '<name>x</name>', refused: true },
    { what: 'JSON', type: 'application/json', body: JSON.stringify(Object.fromEntries(fields.map((n) => [n, ['x']]))) },
    { what: 'malformed JSON', type: 'application/json', body: '{"name":' },
    { what: 'multipart', type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--\r\n' },
    { what: 'broken multipart', type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx' },
    { what: 'a charset nobody reads', type: `${form}; charset=utf-16`, body: 'name=x', refused: true },
    { what: 'numbers JavaScript reads oddly', type: form, body: `${each((n) => `${n}=1e309`)}&${NUMERIC_FIELDS.map((n, i) => `${n}=${ODD_NUMBERS[i % ODD_NUMBERS.length]}`).join('&')}` },
    { what: 'an email in other spellings', type: form, body: `email=${encodeURIComponent(' JANE.DOE@EXAMPLE.COM\u00a0')}&newEmail=${encodeURIComponent('jane.doe@exa\u0308mple.com')}&q=${encodeURIComponent('JANE.DOE@XN--EXMPLE-CUA.COM ')}` },
    { what: 'multipart with an empty file name', type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="file"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--x--\r\n' },
    { what: 'multipart with a field twice', type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\na\r\n--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nb\r\n--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n' },
    { what: 'multipart with a file name of a lone surrogate', type: 'multipart/form-data; boundary=x', body: "--x\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%ED%A0%80.txt\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n" },
  ];
}

/** Bodies for JSON routes (the portal API, the privileges editor's JSON): what the API fuzz does not send. */
function jsonShapes(): Shape[] {
  const json = 'application/json';
  const fields = ['email', 'name', 'title', 'body', 'values', 'language', 'code', 'version'];
  const object = (value: unknown) => JSON.stringify(Object.fromEntries(fields.map((n) => [n, value])));
  return [
    { what: 'an array at the top', type: json, body: '[{"email":"x"}]' },
    { what: 'a string at the top', type: json, body: '"x"', refused: true },
    { what: 'null at the top', type: json, body: 'null', refused: true },
    { what: 'prototype keys', type: json, body: '{"__proto__":{"polluted":1,"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"values":{"__proto__":{"x":1},"constructor":{"prototype":{"x":1}},"toString":"x"}}' },
    { what: 'repeated keys', type: json, body: '{"name":"a","name":"b","values":{},"values":{"x":"y"}}' },
    { what: 'arrays for strings', type: json, body: object(['x', 'y']) },
    { what: 'objects for strings', type: json, body: object({ x: { y: 'z' } }) },
    { what: 'NUL bytes', type: json, body: object('a\u0000b') },
    { what: 'lone surrogates', type: json, body: object('\\ud800x').replaceAll('\\\\ud800', '\\ud800') },
    { what: 'invalid UTF-8', type: json, body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]) },
    { what: 'a 2 MB value', type: json, body: object(TWO_MB), refused: true },
    { what: 'deep nesting', type: json, body: `${'{"values":'.repeat(5000)}1${'}'.repeat(5000)}` },
    { what: 'an empty body', type: json, body: '' },
    { what: 'malformed JSON', type: json, body: '{"name":', refused: true },
    { what: 'a charset nobody reads', type: `${json}; charset=iso-8859-1`, body: '{}', refused: true },
    // JSON.stringify never writes these: 1e309 reads as Infinity, -0 as negative zero.
    { what: 'numbers JavaScript reads oddly', type: json, body: `{${[...fields, ...NUMERIC_FIELDS].map((n, i) => `"${n}":${['1e309', '-0', '-1e309', '1e-400', '99999999999999999999', '"NaN"', '"Infinity"'][i % 7]}`).join(',')},"value":{"viewAll":1e309,"editAll":-0}}` },
    // The API's uploads take multipart with this header; every other JSON route refuses it (415).
    { what: 'multipart with the upload header', type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--x--\r\n', headers: { 'x-requested-with': 'business-portal' } },
  ];
}

/** Query strings for GET routes: list, search, sort, pager, filter and export parameters as arrays, objects and odd values. */
function queryShapes(): { what: string; query: string }[] {
  const names = ['page', 'pageSize', 'limit', 'offset', 'sort', 'order', 'dir', 'direction', 'q', 'search', 'filter', 'list', 'fields', 'comments', 'documents', 'notice', 'done', 'name', 'token', 'next', 'status', 'lang'];
  const each = (value: (name: string) => string) => names.map(value).join('&');
  return [
    { what: 'repeated parameters', query: each((n) => `${n}=1&${n}=2`) },
    { what: 'bracket parameters', query: each((n) => `${n}[]=1&${n}[a]=1&${n}[0][b]=2`) },
    { what: 'prototype parameters', query: `__proto__[x]=1&constructor[prototype][x]=1&${each((n) => `${n}=__proto__`)}` },
    { what: 'huge numbers', query: each((n) => `${n}=${'9'.repeat(40)}`) },
    { what: 'negative and fractional numbers', query: each((n) => `${n}=-1.5e308`) },
    { what: 'NUL bytes', query: each((n) => `${n}=a%00b`) },
    { what: 'invalid percent-encoding', query: each((n) => `${n}=%E0%A4%A&${n}%=%`) },
    { what: 'lone surrogates', query: each((n) => `${n}=%ED%A0%80`) },
    { what: 'a long value', query: `q=${'a'.repeat(6000)}&sort=${'b'.repeat(1000)}` },
    { what: 'empty values', query: each((n) => `${n}=&${n}`) },
    { what: 'numbers JavaScript reads oddly', query: names.map((n, i) => `${n}=${encodeURIComponent(ODD_NUMBERS[i % ODD_NUMBERS.length]!)}`).join('&') },
    { what: 'negative zero, not a number and infinity', query: each((n) => `${n}=-0`).replace(/=-0&(\w+)=-0/g, '=NaN&$1=Infinity') },
  ];
}

/** Odd values for one path parameter at a time. */
const ODD_IDS = ['x'.repeat(6000), '9'.repeat(40), '-1', '0', '1.5', '1e3', '0x10', ' 1', '%00', '%ED%A0%80', '%E0%A4%A', '..%2F..%2Fetc', '__proto__', 'constructor', '1e309', '-0', 'NaN', 'Infinity', '%EF%BC%91', '%D9%A1'];

/**
 * The walk below, on a host started with `hostOptions`, over the routes `only` keeps (all when not given).
 */
function attackEveryRoute(title: string, hostOptions: Partial<ReferenceHostOptions>, only?: (route: MountedRoute) => boolean): void {
  describe(title, function () {
    this.timeout(900_000);
    let test: TestHost;
    let routes: readonly MountedRoute[];
    let admin: string;
    let adminToken: string;
    let portal: string;
    let portalToken: string;
    /** Real values for the path parameters, so that the shapes reach the handlers' own checks. */
    let params: Record<string, string>;

    /**
     * The database as the last refused write left it (a snapshot taken after it), or null when a
     * write went through or a sign-in wrote since: the next write's "before" without reading every
     * table again. A signed-in GET between two writes writes nothing outside the session tables; if
     * one ever did, the next refusal would read as a change (a false failure, never a false pass).
     */
    let known: string | null = null;

    /**
     * SQLite only: a connection of the walk's own to the host's database file. Its `PRAGMA
     * data_version` moves whenever another connection commits a change, so an unmoved value after a
     * refusal proves that nothing at all was written, without reading every table again (the walk
     * spent half its time on those reads). A moved value (a session touched, a timer's write, a
     * change) is read in full as before: the shortcut can only skip reads, never hide a change.
     */
    let watcher: sqlite3.Database | null = null;

    function dataVersion(): Promise<number | null> {
      if (!watcher) return Promise.resolve(null);
      return new Promise((resolve, reject) => watcher!.get<{ data_version: number }>('PRAGMA data_version', (error, row) => (error ? reject(error) : resolve(row!.data_version))));
    }

    /** Every row of every table but the sessions', so that "nothing changed" means nothing at all. */
    async function snapshot(): Promise<string> {
      const db = test.host.api.database;
      const tables = (await db.sequelize.getQueryInterface().showAllTables()).map((t) => (typeof t === 'string' ? t : (t as { tableName: string }).tableName));
      // Read side by side, on the pool's connections: the walk takes a snapshot after each refusal.
      const parts = await Promise.all(
        tables
          .filter((t) => !/session/i.test(t))
          .sort()
          .map(async (table) => {
            const quoted = db.sequelize.getQueryInterface().quoteIdentifier(table);
            return `${table}\n${JSON.stringify(await db.sequelize.query(`SELECT * FROM ${quoted}`, { type: QueryTypes.SELECT }))}`;
          }),
      );
      return parts.join('\n');
    }

    function cookiesOf(res: Response): string[] {
      return res.headers.getSetCookie().map((c) => c.split(';')[0]!);
    }

    async function signInToPortal(): Promise<void> {
      const session = await portalLogin(test, JANE, PASSWORD);
      const page = await fetch(`${test.url}/portal/account/password`, { headers: { cookie: session }, redirect: 'manual' });
      const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
      const csrf = cookiesOf(page).find((c) => c.startsWith('bp_csrf='));
      if (page.status !== 200 || !token || !csrf) throw new Error(`no portal CSRF token (HTTP ${page.status})`);
      portal = `${session}; ${csrf}`;
      portalToken = token;
      known = null;
    }

    async function portalAlive(): Promise<boolean> {
      return (await fetch(`${test.url}${API}/me`, { headers: { cookie: portal } })).status === 200;
    }

    /** The route's path with real parameter values, one of them replaced by `odd` when given. */
    function pathOf(route: MountedRoute, odd?: { name: string; value: string }): string {
      return route.pattern.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
        if (odd?.name === name) return odd.value;
        const key = route.mount === ADMIN ? (route.pattern.includes('/contacts/') ? 'contact' : `admin:${name}`) : `portal:${name}`;
        return params[key] ?? '1';
      });
    }

    function credentialsOf(route: MountedRoute): Record<string, string> {
      return route.mount === ADMIN ? { cookie: admin, 'x-csrf-token': adminToken } : { cookie: portal, 'x-csrf-token': portalToken };
    }

    /** Everything wrong with one answer; empty when it is sound. */
    async function problemsOf(label: string, route: MountedRoute, res: Response, expectRefusal: boolean | number): Promise<string[]> {
      const problems: string[] = [];
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      if (res.status >= 500) problems.push(`${label}: ${res.status}`);
      if (expectRefusal !== false && (res.status < 400 || res.status >= 500)) problems.push(`${label}: ${res.status}, not a refusal`);
      else if (typeof expectRefusal === 'number' && res.status !== expectRefusal) problems.push(`${label}: ${res.status}, not ${expectRefusal}`);
      // Scripts and stylesheets of the pages are code: only what is written for people is read.
      if (/^(text\/(html|plain)|application\/json)/.test(type) && INTERNALS.test(text)) problems.push(`${label}: internals in the body: ${INTERNALS.exec(text)![0]}`);
      if (res.status >= 400 && text !== '') {
        if (route.path.startsWith(`${API}/`) || route.path === API) {
          let body: { error?: { code?: unknown; message?: unknown } } | null = null;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          if (typeof body?.error?.code !== 'string' || typeof body.error.message !== 'string') problems.push(`${label}: ${res.status} without a JSON error (${type}): ${text.slice(0, 120)}`);
        } else if (type.startsWith('application/json')) {
          const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          if (typeof body.error?.message !== 'string') problems.push(`${label}: ${res.status} JSON without an error message`);
        } else if (!type.startsWith('text/html') || !/<html lang="[a-z]{2}"/.test(text)) {
          problems.push(`${label}: ${res.status} is not a localized page (${type}): ${text.slice(0, 120)}`);
        }
      }
      return problems;
    }

    /** Sends one request; a refusal (of the given status, when one is given) must have changed nothing. */
    async function attack(label: string, route: MountedRoute, url: string, init: RequestInit, expectRefusal: boolean | number = false): Promise<string[]> {
      const writes = !['GET', 'HEAD', 'OPTIONS'].includes((init.method ?? 'GET').toUpperCase());
      // The version first: a commit landing while the snapshot is read moves it, and is then read in full.
      const versionBefore = writes ? await dataVersion() : null;
      const before = writes ? (known ?? (await snapshot())) : '';
      const res = await fetch(`${test.url}${url}`, { redirect: 'manual', ...init });
      const problems = await problemsOf(label, route, res, expectRefusal);
      if (process.env.SHAPES_LOG) console.log(res.status, label.slice(0, 140));
      const untouched = versionBefore !== null && (await dataVersion()) === versionBefore;
      const after = writes && res.status >= 400 && !untouched ? await snapshot() : before;
      if (writes) known = res.status >= 400 ? after : null;
      if (process.env.SHAPES_LOG && after !== before) {
        const [a, b] = [before.split('\n'), after.split('\n')];
        for (let i = 0; i < a.length; i += 2) if (a[i + 1] !== b[i + 1]) console.log('  changed', a[i], b[i + 1]!.slice(0, 600));
      }
      if (after !== before) problems.push(`${label}: refused with ${res.status} but the database changed`);
      if (route.mount !== ADMIN && !(await portalAlive())) {
        problems.push(`${label}: the portal session ended`);
        await signInToPortal();
      }
      return problems;
    }

    before(async () => {
      test = await startTestHost(hostOptions);
      const url = test.host.options.databaseUrl;
      if (dialectOf(url) === 'sqlite') {
        watcher = await new Promise<sqlite3.Database>((resolve, reject) => {
          const db = new sqlite3.Database(sqliteStorage(url), sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(db)));
        });
      }
      // Deletions last: they may take the record the other routes use.
      routes = [...mountedRoutes(test.host)].filter((route) => only?.(route) ?? true).sort((a, b) => Number(/delete/i.test(`${a.method} ${a.path}`)) - Number(/delete/i.test(`${b.method} ${b.path}`)));
      admin = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
      const html = await (await fetch(`${test.url}${ADMIN}/profiles/new`, { headers: { cookie: admin } })).text();
      adminToken = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
      const api = test.host.api;
      if (only) {
        params = { 'admin:id': String((await new SequelizeProfileStore(api.database).defaultProfile()).id), 'admin:section': 'modules' };
        return;
      }
      await signInToPortal();
      const tickets = (await (await fetch(`${test.url}${API}/modules/HelpDesk/records?pageSize=5`, { headers: { cookie: portal } })).json()) as { rows: { id: number }[] };
      const ticket = String(tickets.rows[0].id);
      const documents = (await (await fetch(`${test.url}${API}/modules/HelpDesk/records/${ticket}/documents`, { headers: { cookie: portal } })).json()) as { documents?: { id: number }[] };
      const profile = await new SequelizeProfileStore(api.database).defaultProfile();
      params = {
        'portal:module': 'HelpDesk',
        'portal:id': ticket,
        'portal:documentId': String(documents.documents?.[0]?.id ?? 1),
        'admin:id': String(profile.id),
        'admin:section': 'modules',
        contact: String((await idsWhere(api, 'Contacts', 'email', JANE))[0]),
      };
    });

    after(async () => {
      await new Promise<void>((resolve) => (watcher ? watcher.close(() => resolve()) : resolve()));
      await test?.stop();
    });

    it('finds the plugin routes to attack, with real parameters', function () {
      if (only) {
        expect(routes.map((r) => `${r.method} ${r.pattern}`)).to.include.members([`POST ${ADMIN}/classic/modules`, `POST ${ADMIN}/classic/template`, `POST ${ADMIN}/version`]);
        return;
      }
      const keys = routes.map((r) => `${r.method} ${r.pattern}`);
      expect(keys).to.include.members([`POST ${ADMIN}/profiles`, 'POST /portal/m/:module/:id/comments', `PATCH ${API}/modules/:module/records/:id`, 'GET /portal/m/:module/export.csv', ...ADMIN_JSON_ROUTES, ...PORTAL_UPLOAD_ROUTES, ...API_UPLOAD_ROUTES]);
      expect(params.contact).to.match(/^\d+$/);
    });

    it('answers every form route’s hostile bodies below 500, plainly, and a refusal changes nothing', async () => {
      const problems: string[] = [];
      for (const route of routes.filter((r) => !['GET', 'HEAD'].includes(r.method) && !r.path.startsWith(`${API}/`))) {
        if (ENDS_THE_SESSION.has(`${route.method} ${route.path}`)) continue;
        for (const shape of formShapes()) {
          const headers: Record<string, string> = { ...credentialsOf(route), ...(shape.type ? { 'content-type': shape.type } : {}) };
          // No admin route takes a file: multipart is refused there, and JSON on every admin form
          // (read as an empty form, it saved a profile with nothing ticked or duplicated one).
          const key = `${route.method} ${route.pattern}`;
          const multipart = shape.what.includes('multipart');
          const json = shape.type?.startsWith('application/json') === true;
          const unreadByAdmin = route.mount === ADMIN && (multipart || (json && !ADMIN_JSON_ROUTES.has(key)));
          // A portal page reads what its form sends: read as an empty form, JSON or multipart closed a
          // ticket or switched the language. An upload reads multipart only (a body of bytes, that is).
          const hasBody = shape.body !== undefined && shape.body.length > 0;
          const unreadByPortal = route.mount !== ADMIN && hasBody && (PORTAL_UPLOAD_ROUTES.has(key) ? !multipart : multipart || json);
          const refused = unreadByAdmin || unreadByPortal ? 415 : shape.refused === true;
          problems.push(...(await attack(`${route.method} ${route.pattern} with ${shape.what}`, route, pathOf(route), { method: route.method, headers, body: shape.body }, refused)));
        }
      }
      expect(problems).to.deep.equal([]);
    });

    it('answers every JSON route’s hostile bodies below 500, as JSON errors, and a refusal changes nothing', async () => {
      const problems: string[] = [];
      const jsonRoutes = routes.filter((r) => !['GET', 'HEAD'].includes(r.method) && (r.path.startsWith(`${API}/`) || r.method === 'PUT'));
      for (const route of jsonRoutes) {
        if (ENDS_THE_SESSION.has(`${route.method} ${route.path}`)) continue;
        for (const shape of jsonShapes()) {
          const headers: Record<string, string> = { ...credentialsOf(route), accept: 'application/json', ...(shape.type ? { 'content-type': shape.type } : {}), ...shape.headers };
          // Multipart where no file is read: an empty body to the route, it closed a ticket (API resolve).
          const unread = shape.type?.startsWith('multipart/') === true && !API_UPLOAD_ROUTES.has(`${route.method} ${route.pattern}`);
          problems.push(...(await attack(`${route.method} ${route.pattern} with ${shape.what}`, route, pathOf(route), { method: route.method, headers, body: shape.body }, unread ? 415 : shape.refused)));
        }
      }
      expect(problems).to.deep.equal([]);
    });

    it('answers every GET route’s hostile query strings below 500 and plainly', async () => {
      const problems: string[] = [];
      for (const route of routes.filter((r) => r.method === 'GET')) {
        for (const { what, query } of queryShapes()) {
          problems.push(...(await attack(`GET ${route.pattern} with ${what}`, route, `${pathOf(route)}?${query}`, { headers: credentialsOf(route) })));
        }
      }
      expect(problems).to.deep.equal([]);
    });

    it('answers HEAD and OPTIONS on every GET route below 500, HEAD without a body', async () => {
      const problems: string[] = [];
      for (const route of routes.filter((r) => r.method === 'GET')) {
        const head = await fetch(`${test.url}${pathOf(route)}`, { method: 'HEAD', headers: credentialsOf(route), redirect: 'manual' });
        if (head.status >= 500) problems.push(`HEAD ${route.pattern}: ${head.status}`);
        if ((await head.text()) !== '') problems.push(`HEAD ${route.pattern}: a body`);
        problems.push(...(await attack(`OPTIONS ${route.pattern}`, route, pathOf(route), { method: 'OPTIONS', headers: credentialsOf(route) })));
      }
      expect(problems).to.deep.equal([]);
    });

    it('answers OPTIONS with the methods the path answers, grants no other origin a preflight, and 404s a path nobody answers', async () => {
      const problems: string[] = [];
      const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const matches = (route: MountedRoute, path: string) => new RegExp(`^${escaped(route.pattern).replace(/:[A-Za-z_]+/g, '[^/]+')}$`).test(path);
      // One request per path the walk sends: '/profiles/new' is also '/profiles/:id', and answers what both do.
      const paths = new Map(routes.map((route) => [pathOf(route), route] as const));
      for (const [path, route] of paths) {
        const owed = new Set(routes.filter((r) => r.mount === route.mount && matches(r, path)).flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])));
        // The JSON API lists OPTIONS too: it answers it on each of its paths.
        if (path === API || path.startsWith(`${API}/`)) owed.add('OPTIONS');
        const options = await fetch(`${test.url}${path}`, { method: 'OPTIONS', headers: credentialsOf(route), redirect: 'manual' });
        const text = await options.text();
        const allow = new Set((options.headers.get('allow') ?? '').split(',').map((m) => m.trim()).filter((m) => m !== ''));
        if (options.status < 200 || options.status > 204) problems.push(`OPTIONS ${path}: ${options.status}`);
        if ([...allow].sort().join(', ') !== [...owed].sort().join(', ')) problems.push(`OPTIONS ${path}: Allow ${[...allow].join(', ')}, not ${[...owed].join(', ')}`);
        if (INTERNALS.test(text)) problems.push(`OPTIONS ${path}: internals in the body`);
        // A preflight as another origin's script makes it (no cookie): the answer must not let it send the request.
        const preflight = await fetch(`${test.url}${path}`, {
          method: 'OPTIONS',
          redirect: 'manual',
          headers: { origin: 'https://attacker.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-csrf-token, x-requested-with' },
        });
        await preflight.arrayBuffer();
        for (const answer of [options, preflight]) {
          const granted = [...answer.headers.keys()].filter((name) => name.startsWith('access-control-'));
          if (granted.length > 0) problems.push(`OPTIONS ${path}: ${granted.join(', ')}`);
        }
      }
      // A path no route answers is the plugin's 404, in the form of its place.
      for (const [path, credentials, type] of [
        ['/portal/no-such-page', credentialsOf({ mount: '/portal' } as MountedRoute), 'text/html'],
        [`${API}/no-such-route`, credentialsOf({ mount: '/portal' } as MountedRoute), 'application/json'],
        [`${ADMIN}/no-such-page`, credentialsOf({ mount: ADMIN } as MountedRoute), 'text/html'],
      ] as const) {
        const res = await fetch(`${test.url}${path}`, { method: 'OPTIONS', headers: credentials, redirect: 'manual' });
        await res.arrayBuffer();
        if (res.status !== 404 || !res.headers.get('content-type')?.startsWith(type)) problems.push(`OPTIONS ${path}: ${res.status} ${res.headers.get('content-type')}`);
      }
      expect(problems).to.deep.equal([]);
    });

    it('answers HEAD on every CSV export with the headers of its GET and no query of the rows', async () => {
      const exports = routes.filter((r) => r.method === 'GET' && r.pattern.endsWith('.csv'));
      if (only) return;
      expect(exports.length).to.be.greaterThan(1);
      for (const route of exports) {
        const get = await fetch(`${test.url}${pathOf(route)}`, { headers: credentialsOf(route), redirect: 'manual' });
        await get.arrayBuffer();
        expect(get.status, `GET ${route.pattern}`).to.equal(200);
        const queries: string[] = [];
        const log = (sql: string) => queries.push(sql);
        // The queries the HEAD makes, through Sequelize's logging hook.
        const sequelize = test.host.api.database.sequelize as unknown as { options: { logging: unknown } };
        const before = sequelize.options.logging;
        sequelize.options.logging = log;
        let head: Response;
        try {
          head = await fetch(`${test.url}${pathOf(route)}`, { method: 'HEAD', headers: credentialsOf(route), redirect: 'manual' });
        } finally {
          sequelize.options.logging = before;
        }
        expect(head.status, `HEAD ${route.pattern}`).to.equal(200);
        expect(head.headers.get('content-type')).to.equal(get.headers.get('content-type'));
        expect(head.headers.get('content-disposition')).to.equal(get.headers.get('content-disposition'));
        const rowQueries = queries.filter((sql) => /\bFROM\b/i.test(sql) && /help_?desk|trouble|ticket/i.test(sql));
        expect(rowQueries, `HEAD ${route.pattern} read the rows`).to.deep.equal([]);
        // …and a HEAD the GET would refuse is refused the same way.
        const bad = `${pathOf(route)}?sort=no_such_field`;
        const [badGet, badHead] = [await fetch(`${test.url}${bad}`, { headers: credentialsOf(route) }), await fetch(`${test.url}${bad}`, { method: 'HEAD', headers: credentialsOf(route) })];
        await badGet.arrayBuffer();
        expect(badHead.status, `HEAD ${route.pattern}?sort=no_such_field`).to.equal(badGet.status).and.to.be.within(400, 499);
      }
    });

    it('refuses overlong and odd ids on every route with a 4xx, and a refusal changes nothing', async () => {
      const problems: string[] = [];
      for (const route of routes.filter((r) => r.method !== 'HEAD' && /:[A-Za-z_]+/.test(r.pattern))) {
        if (ENDS_THE_SESSION.has(`${route.method} ${route.path}`)) continue;
        const json = route.path.startsWith(`${API}/`) || route.method === 'PUT';
        for (const [, name] of route.pattern.matchAll(/:([A-Za-z_]+)/g)) {
          for (const value of ODD_IDS) {
            const body = route.method === 'GET' ? undefined : json ? '{}' : 'name=x';
            const type = json ? 'application/json' : 'application/x-www-form-urlencoded';
            const headers = { ...credentialsOf(route), ...(body === undefined ? {} : { 'content-type': type }) };
            const label = `${route.method} ${route.pattern} with :${name} = ${value.slice(0, 20)}`;
            // A module name is a name: only the ones that cannot be one must be refused.
            const mustRefuse = name !== 'section' || value !== 'modules';
            problems.push(...(await attack(label, route, pathOf(route, { name, value }), { method: route.method, headers, body }, mustRefuse)));
          }
        }
      }
      expect(problems).to.deep.equal([]);
    });
  });
}

attackEveryRoute('hostile request shapes on every route the plugin mounts @db', { demo: true });

// The version 1 settings answer only on an install upgraded from a release that had them (a 404 elsewhere, before any check).
attackEveryRoute('hostile request shapes on the version 1 settings of an upgraded install @db', { demo: true, installOrigin: UPGRADED_FROM_V1 }, (route) =>
  [`${ADMIN}/`, `${ADMIN}/version`].includes(route.pattern) || route.pattern.startsWith(`${ADMIN}/classic`),
);
