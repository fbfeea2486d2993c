/**
 * The Check Business Portal login page of a CRM with thousands of locked and failing portal users
 * (a password-spraying wave does that): the name filter still finds the one asked for, wherever it
 * sits among them, the page's thousands of dates do not hold up the host while it renders, and its
 * 1,500 rows are not a page of megabytes.
 */
import { expect } from 'chai';
import { startLoginCheckHost, type LoginCheckHost } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';
const LOCKED = 5_200;
const FAILING = 1_100;

describe('login-check with thousands of locked and failing portal users @db', function () {
  this.timeout(120_000);
  let h: LoginCheckHost;
  let zelda: number;
  let yuri: number;

  before(async () => {
    h = await startLoginCheckHost();
    const sequelize = h.api.database.sequelize;
    const qi = sequelize.getQueryInterface();
    const contacts = qi.quoteIdentifier(h.test.host.registry.tableName('Contacts'));
    const now = new Date();
    // Contacts in bulk (the records API would take minutes): the two searched for come last, after every other.
    const people = [
      ...Array.from({ length: LOCKED }, (_, i) => ({ first: 'Locked', last: `Person${i}`, email: `locked${i}@example.com`, locked: true })),
      ...Array.from({ length: FAILING }, (_, i) => ({ first: 'Failing', last: `Person${i}`, email: `failing${i}@example.com`, locked: false })),
      { first: 'Zelda', last: 'Quokka', email: 'zq@example.com', locked: true },
      { first: 'Yuri', last: 'Wombat', email: 'yw@example.com', locked: false },
    ];
    for (let at = 0; at < people.length; at += 500) {
      const slice = people.slice(at, at + 500);
      const replacements: Record<string, unknown> = { now };
      const rows = slice.map((p, i) => {
        Object.assign(replacements, { [`f${i}`]: p.first, [`l${i}`]: p.last, [`e${i}`]: p.email });
        return `(:f${i}, :l${i}, :e${i}, 'en', :now, :now, 1)`;
      });
      await sequelize.query(`INSERT INTO ${contacts} (firstname, lastname, email, language, created_at, modified_at, version) VALUES ${rows.join(', ')}`, { replacements });
    }
    const ids = new Map((await h.sql<{ id: unknown; email: string }>(`SELECT id, email FROM ${contacts}`)).map((row) => [row.email, Number(row.id)]));
    for (let at = 0; at < people.length; at += 500) {
      const slice = people.slice(at, at + 500);
      const replacements: Record<string, unknown> = { now };
      const rows = slice.map((p, i) => {
        Object.assign(replacements, { [`c${i}`]: ids.get(p.email), [`e${i}`]: p.email });
        return `(:c${i}, :e${i}, TRUE, FALSE, ${p.locked ? 5 : 2}, :now, :now, '203.0.113.9', ${p.locked ? ':now' : 'NULL'}, :now, :now, 1)`;
      });
      await sequelize.query(
        `INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, must_change_password, failed_attempts, first_failed_at, last_failed_at, last_failed_ip, locked_at, created_at, updated_at, version) VALUES ${rows.join(', ')}`,
        { replacements },
      );
    }
    zelda = ids.get('zq@example.com')!;
    yuri = ids.get('yw@example.com')!;
  });

  after(async () => {
    await h?.stop();
  });

  const rowsOf = (html: string, table: string) => (new RegExp(`<table class="bp-stack ${table}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? '');
  const listedIds = (html: string, table: string) => [...rowsOf(html, table).matchAll(/<tr data-contact-id="(\d+)"/g)].map((m) => Number(m[1]));

  it('the name filter finds a locked user behind more than a thousand others, and a failing one', async () => {
    const locked = await h.get(`${PAGE}?q=quokka`, h.admin);
    expect(locked.status).to.equal(200);
    const lockedHtml = await locked.text();
    expect(listedIds(lockedHtml, 'bp-locked')).to.deep.equal([zelda]);
    expect(lockedHtml, 'a list shown whole says nothing of others').not.to.include('Only the 500');
    const failing = await h.get(`${PAGE}?q=yuri+wombat`, h.admin);
    expect(failing.status).to.equal(200);
    expect(listedIds(await failing.text(), 'bp-failing')).to.deep.equal([yuri]);
  });

  it('the unfiltered page lists the most recent 500 of each and makes its date formatters once, not once per date', async () => {
    const Original = Intl.DateTimeFormat;
    let made = 0;
    // Counts constructions and otherwise is the real one (`new`, calls and static methods alike).
    Intl.DateTimeFormat = new Proxy(Original, {
      construct(target, args) {
        made += 1;
        return Reflect.construct(target, args) as object;
      },
      apply(target, self, args) {
        made += 1;
        return Reflect.apply(target, self, args) as unknown;
      },
    });
    let html: string;
    try {
      const response = await h.get(PAGE, h.admin);
      expect(response.status).to.equal(200);
      html = await response.text();
    } finally {
      Intl.DateTimeFormat = Original;
    }
    expect(listedIds(html, 'bp-locked')).to.have.length(500);
    expect(listedIds(html, 'bp-failing')).to.have.length(500);
    // The admin is told that these are not all, and how to reach the others.
    expect(html).to.include('<p>Only the 500 most recently locked are listed. Filter by contact name or email to narrow the list.</p>');
    expect(html).to.include('<p>Only the 500 with the most recent failures are listed. Filter by contact name or email to narrow the list.</p>');
    expect(html.match(/<time datetime=/g)?.length ?? 0, 'dates on the page').to.be.at.least(2_500);
    expect(made, 'Intl.DateTimeFormat objects made while rendering').to.be.at.most(5);
  });

  it('lists the 500 most recently banned of thousands of client addresses, read as 501 rows, and says the others are not shown', async () => {
    const sequelize = h.api.database.sequelize;
    const start = Date.now() - 86_400_000;
    // A distributed attack: 1,200 addresses banned a second apart, the newest last.
    for (let at = 0; at < 1_200; at += 400) {
      const replacements: Record<string, unknown> = {};
      const rows = Array.from({ length: 400 }, (_, i) => {
        replacements[`b${i}`] = new Date(start + (at + i) * 1000);
        return `('198.18.${Math.floor((at + i) / 250)}.${(at + i) % 250}', 100, :b${i}, :b${i})`;
      });
      await sequelize.query(`INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES ${rows.join(', ')}`, { replacements });
    }
    const read: number[] = [];
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = async (sql, options) => {
      const result = await original(sql, options);
      if (typeof sql === 'string' && /FROM bp_client_failures WHERE banned_at IS NOT NULL/.test(sql) && Array.isArray(result)) read.push(result.length);
      return result;
    };
    let html: string;
    try {
      const response = await h.get(PAGE, h.admin);
      expect(response.status).to.equal(200);
      html = await response.text();
    } finally {
      (sequelize as unknown as { query: typeof original }).query = original;
    }
    expect(read).to.deep.equal([501]);
    const listed = [...rowsOf(html, 'bp-banned').matchAll(/<tr data-ip="([^"]+)"/g)].map((m) => m[1]);
    expect(listed).to.have.length(500);
    // 1,199 is the newest (198.18.4.199), 700 the 500th (198.18.2.200); 699 and older are not listed.
    expect(listed[0]).to.equal('198.18.4.199');
    expect(listed[499]).to.equal('198.18.2.200');
    expect(listed).not.to.include('198.18.2.199');
    expect(html).to.include('<p>Only the 500 most recently banned addresses are listed; the older ones show as bans are lifted.</p>');
    // 500 locked, 500 failing and 500 banned: one form lifts any of the bans (its CSRF token once, not
    // once per address), and the rows carry no indentation. The page was 1.19 MB, 0.87 MB now.
    expect(listedIds(html, 'bp-locked')).to.have.length(500);
    expect(listedIds(html, 'bp-failing')).to.have.length(500);
    expect(html.match(/name="_csrf"/g), 'CSRF tokens on the page').to.have.length(2);
    expect(rowsOf(html, 'bp-banned').match(/<button type="submit" name="ip" value="[^"]+"/g)).to.have.length(500);
    expect(html.length, 'bytes of the page of 1,500 rows').to.be.below(900_000);
  });
});
