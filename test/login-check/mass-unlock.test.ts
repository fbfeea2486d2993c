/**
 * After a mass lockout (a password-spraying wave locks hundreds of portal users) an admin unlocks
 * them together: "Select all shown" ticks the page's checkboxes — a plain form, the browser sends
 * one `contactId` per box — and one POST unlocks them in one transaction, one audit entry each.
 * Attacked with a page of 500 boxes, a stale page, ids of nobody, forged and huge lists.
 */
import { expect } from 'chai';
import { startLoginCheckHost, type LoginCheckHost } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';
const UNLOCK = `${PAGE}/unlock`;

describe('login-check: unlocking many portal users at once @db', function () {
  this.timeout(180_000);
  let h: LoginCheckHost;
  let sprayed: number[];

  before(async () => {
    h = await startLoginCheckHost();
    sprayed = await h.addLockedInBulk(520, 'sprayed');
  });
  after(async () => {
    await h?.stop();
  });

  const count = async (sql: string, replacements: Record<string, unknown> = {}) => Number((await h.sql<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`, replacements))[0]!.n);
  const lockedCount = () => count('bp_portal_accounts WHERE locked_at IS NOT NULL');
  /** The form of the page's locked list as a browser sends it with every box ticked ("Select all shown"). */
  const everyBoxOf = async (query = '') => {
    const html = await (await h.get(`${PAGE}${query}`, h.admin)).text();
    const form = /<form method="post" action="[^"]*\/unlock">[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
    const hidden = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    const boxes = [...form.matchAll(/<input type="checkbox" name="contactId" value="(\d+)"/g)].map((m) => m[1]!);
    return { html, hidden, boxes };
  };
  const noticeOf = async (location: string, cookie = h.admin) => /<p class="bp-notice[^"]*" role="[a-z]+">([^<]*)<\/p>/.exec(await (await h.get(location, cookie)).text())?.[1];

  it('offers "Select all shown" beside the boxes of the page it shows', async () => {
    const { html, boxes } = await everyBoxOf();
    expect(boxes).to.have.length(500);
    // Hidden until the script that makes it work shows it: without one the boxes are a plain form.
    expect(html).to.match(/<p class="bp-select-all" hidden><label class="bp-row-pick"><input type="checkbox" id="bp-select-all"> Select all shown<\/label><\/p>/);
    expect(html).to.match(/<script src="[^"]*\/login-check\/assets\/login-check\.js\?v&#x3D;[0-9a-f]{12}" defer><\/script>/);
    const script = await h.get(`${PAGE}/assets/login-check.js`, h.admin);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/javascript/);
  });

  it('unlocks the whole page of 500 in one POST: one audit entry and one history row each, the filter kept', async () => {
    const { hidden, boxes } = await everyBoxOf('?q=sprayed');
    expect(hidden.q).to.equal('sprayed');
    expect(boxes).to.have.length(500);
    const before = await lockedCount();
    const response = await h.post(UNLOCK, h.admin, { ...hidden, contactId: boxes });
    expect(response.status).to.equal(303);
    const location = new URL(response.headers.get('location')!, h.url);
    expect(Object.fromEntries([...location.searchParams].filter(([key]) => key !== 'sig'))).to.deep.equal({ q: 'sprayed', done: 'unlocked', count: '500', skipped: '0' });
    expect(await lockedCount()).to.equal(before - 500);
    expect(await count("bp_login_check_audit WHERE action = 'unlock'")).to.equal(500);
    expect(await count("bp_login_history WHERE event = 'unlocked'")).to.equal(500);
    expect(await noticeOf(`${location.pathname}${location.search}`)).to.equal('500 portal users unlocked.');
    // The 20 the page could not show are still locked, and listed now.
    expect((await everyBoxOf('?q=sprayed')).boxes).to.have.length(20);
  });

  it('a stale page (some unlocked meanwhile) and ids of nobody do not fail the batch: the rest are unlocked, and the page says how many of each', async () => {
    const { hidden, boxes } = await everyBoxOf('?q=sprayed');
    expect(boxes).to.have.length(20);
    // Another admin unlocks three of them while this page is open.
    const other = await h.post(UNLOCK, h.admin, { _csrf: hidden._csrf!, contactId: boxes.slice(0, 3) });
    expect(other.headers.get('location')).to.include('count=3');
    // And a forged form adds a contact with no portal account, and one that is not locked.
    const response = await h.post(UNLOCK, h.admin, { ...hidden, contactId: [...boxes, '2147483647', String(sprayed.find((id) => !boxes.includes(String(id))))] });
    expect(response.status).to.equal(303);
    const location = response.headers.get('location')!;
    expect(Object.fromEntries([...new URL(location, h.url).searchParams].filter(([key]) => key !== 'sig'))).to.deep.equal({ q: 'sprayed', done: 'unlocked', count: '17', skipped: '5' });
    expect(await noticeOf(location)).to.equal('17 portal users unlocked. 5 selected were not locked any more or have no portal account.');
    expect(await lockedCount()).to.equal(0);
    // One audit entry per user unlocked, none for the ids that unlocked nobody: 500 + 3 + 17.
    expect(await count("bp_login_check_audit WHERE action = 'unlock'")).to.equal(520);
    expect(await count("bp_login_check_audit WHERE action = 'unlock' AND target = '2147483647'")).to.equal(0);
  });

  it('shows the outcome its own POST signed for this session, never numbers a crafted or altered link carries', async () => {
    const [one] = await h.addLockedInBulk(1, 'signed');
    const token = await h.csrf(h.admin);
    const location = (await h.post(UNLOCK, h.admin, { _csrf: token, contactId: [String(one), '2000000001'] })).headers.get('location')!;
    expect(await noticeOf(location)).to.equal('1 portal user unlocked. 1 selected was not locked any more or has no portal account.');
    // A link made by hand (sent to an admin), and the real one with its numbers changed: no outcome at all.
    const crafted = { made: `${PAGE}?done=unlocked&count=250&skipped=0`, altered: location.replace('count=1', 'count=250'), unsigned: location.replace(/&sig=[^&]*/, ''), banMade: `${PAGE}?done=lifted&ip=203.0.113.9` };
    const shown: Record<string, string | undefined> = {};
    for (const [name, link] of Object.entries(crafted)) shown[name] = await noticeOf(link);
    expect(shown).to.deep.equal({ made: undefined, altered: undefined, unsigned: undefined, banMade: undefined });
  });

  it('counts in words with the right plural forms, in English and Italian', async () => {
    /** The notice after a real unlock of `unlocked` locked users and `skipped` ids of nobody. */
    let token = '';
    const notice = async (unlocked: number, skipped: number) => {
      const ids = [...(unlocked > 0 ? await h.addLockedInBulk(unlocked, `plural${unlocked}x${skipped}${Math.random().toString(36).slice(2, 6)}`) : []).map(String), ...Array.from({ length: skipped }, (_, i) => String(2_100_000_000 + i))];
      // The session's token (the same on every page of it), read while the page lists someone.
      token ||= await h.csrf(h.admin);
      const response = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: ids });
      return noticeOf(response.headers.get('location')!);
    };
    expect(await notice(1, 0)).to.equal('1 portal user unlocked.');
    expect(await notice(1, 1)).to.equal('1 portal user unlocked. 1 selected was not locked any more or has no portal account.');
    expect(await notice(2, 2)).to.equal('2 portal users unlocked. 2 selected were not locked any more or have no portal account.');
    expect(await notice(0, 3)).to.equal('Nothing was unlocked: the selected portal users were not locked, or have no portal account.');
    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      expect(await notice(1, 0)).to.equal('1 utente portale sbloccato.');
      expect(await notice(1, 1)).to.equal('1 utente portale sbloccato. 1 utente selezionato non era più bloccato o non ha un account del portale.');
      expect(await notice(3, 2)).to.equal('3 utenti portale sbloccati. 2 utenti selezionati non erano più bloccati o non hanno un account del portale.');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('more ids than a page holds (501, and 10,000) are refused with a clear message and unlock no one', async () => {
    const more = await h.addLockedInBulk(3, 'later');
    const token = (await everyBoxOf()).hidden._csrf!;
    const auditBefore = await count('bp_login_check_audit');
    for (const size of [501, 10_000]) {
      const ids = [...more.map(String), ...Array.from({ length: size - more.length }, (_, i) => String(3_000_000 + i))];
      const response = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: ids });
      expect(response.status, `${size} ids`).to.be.oneOf([400, 413]);
      const text = await response.text();
      expect(text, `${size} ids`).to.match(/At most 500 portal users can be unlocked at once|The form sent more fields than any page of this site has/);
      expect(text, `${size} ids`).to.include('nothing was');
    }
    expect(await lockedCount()).to.equal(3);
    expect(await count('bp_login_check_audit')).to.equal(auditBefore);
    // Just the three: unlocked.
    expect((await h.post(UNLOCK, h.admin, { _csrf: token, contactId: more.map(String) })).headers.get('location')).to.include('count=3');
  });
});
