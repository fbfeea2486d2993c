import { expect } from 'chai';
import { SequelizeLoginCheckAudit } from '../../plugin/login-check/login-check-audit.js';
import { captureLogs } from '../settings/settings-test-kit.js';
import { commitRefuser } from '../support/database.js';
import { TEST_ADMIN_PASSWORD, crmLogin } from '../support/host.js';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { PORTAL_PASSWORD, startLoginCheckHost, unlockTokenOf, type LoginCheckHost, unsigned } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';
const UNLOCK = `${PAGE}/unlock`;
const LIFT = `${PAGE}/lift-ban`;
const XSS = '<script>alert("xss")</script>';

describe('login-check: the Check Business Portal login page, lock emails and login history @db', function () {
  this.timeout(60_000);
  let h: LoginCheckHost;
  let jane: number;
  let mario: number;
  let evil: number;

  before(async () => {
    h = await startLoginCheckHost();
    jane = await h.addCustomer({ firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com' });
    mario = await h.addCustomer({ firstname: 'Mario', lastname: 'Rossi', email: 'mario.rossi@example.com', language: 'it' });
    evil = await h.addCustomer({ firstname: 'Eve', lastname: '<img src=x onerror=alert(1)>', email: 'eve_50%@example.com' });
  });
  after(async () => {
    await h?.stop();
  });

  const lockMails = (contactId: number) => h.mails.filter((mail) => mail.kind === 'accountLocked' && mail.contactId === contactId);
  const rowsOf = (html: string, table: string) => (new RegExp(`<table class="bp-stack ${table}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? '');
  const listedIds = (html: string, table = 'bp-locked') => [...rowsOf(html, table).matchAll(/<tr data-contact-id="(\d+)"/g)].map((m) => Number(m[1]));
  const page = async (query = '') => {
    const response = await h.get(`${PAGE}${query}`, h.admin);
    expect(response.status).to.equal(200);
    return response.text();
  };
  const adminUnlock = async (ids: readonly number[]) => {
    const response = await h.post(UNLOCK, h.admin, { _csrf: await h.csrf(h.admin), contactId: ids.map(String) });
    expect(response.status).to.equal(303);
    return response.headers.get('location')!;
  };

  describe('access', () => {
    it('anonymous visitors go to the CRM login, for every route and verb', async () => {
      for (const response of [await h.get(PAGE), await h.post(UNLOCK, undefined, { contactId: String(jane) }), await h.post(LIFT, undefined, { ip: '10.0.0.1' })]) {
        expect(response.status).to.equal(303);
        expect(response.headers.get('location')).to.match(/^\/login\?/);
      }
    });

    it('OPTIONS: an admin gets 200 with Allow and no preflight granted; anyone else the gate’s answer, as for GET', async () => {
      const options = (path: string, cookie?: string) => fetch(`${h.url}${path}`, { method: 'OPTIONS', redirect: 'manual', headers: cookie ? { cookie } : {} });
      for (const [path, allow] of [[PAGE, 'GET, HEAD'], [UNLOCK, 'POST'], [LIFT, 'POST']] as const) {
        const response = await options(path, h.admin);
        expect(response.status, path).to.equal(200);
        expect(response.headers.get('allow'), path).to.equal(allow);
        expect(response.headers.get('location'), path).to.equal(null);
        expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-')), path).to.deep.equal([]);
        expect(await response.text(), path).to.equal(allow);
        // Signed out: the login, and a CRM user who is no admin: 403, as a GET (no Allow to tell a route is there).
        const signedOut = await options(path);
        expect(signedOut.status, `signed out ${path}`).to.equal(303);
        expect(signedOut.headers.get('allow'), `signed out ${path}`).to.equal(null);
        const clerk = await options(path, h.clerk);
        expect(clerk.status, `clerk ${path}`).to.equal(403);
        expect(clerk.headers.get('allow'), `clerk ${path}`).to.equal(null);
      }
      // A path no admin route answers: a 404 for the admin, the same login as any path for the signed out.
      expect((await options(`${PAGE}/nothing-here`, h.admin)).status).to.equal(404);
      expect((await options(`${PAGE}/nothing-here`)).status).to.equal(303);
    });

    it('a non-admin CRM user gets 403 for every route and verb, and changes nothing', async () => {
      await h.lock('jane.doe@example.com');
      expect((await h.get(PAGE, h.clerk)).status).to.equal(403);
      expect((await h.post(UNLOCK, h.clerk, { contactId: String(jane) })).status).to.equal(403);
      expect((await h.post(LIFT, h.clerk, { ip: '10.0.0.1' })).status).to.equal(403);
      expect(await h.isLocked(jane)).to.equal(true);
    });

    it('a POST without the CSRF token, or with a wrong one, is refused with 403 and changes nothing', async () => {
      const token = await h.csrf(h.admin);
      expect((await h.post(UNLOCK, h.admin, { contactId: String(jane) })).status).to.equal(403);
      expect((await h.post(UNLOCK, h.admin, { _csrf: `${token.slice(0, -2)}xx`, contactId: String(jane) })).status).to.equal(403);
      // Another session's token (the same admin, signed in twice) is no good either.
      const otherSession = await crmLogin(h.url, 'admin', TEST_ADMIN_PASSWORD);
      const otherToken = await h.csrf(otherSession);
      expect(otherToken).not.to.equal(token);
      expect((await h.post(UNLOCK, h.admin, { _csrf: otherToken, contactId: String(jane) })).status).to.equal(403);
      expect((await h.post(LIFT, h.admin, { ip: '10.0.0.1' })).status).to.equal(403);
      expect(await h.isLocked(jane)).to.equal(true);
      const [audit] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_login_check_audit');
      expect(Number(audit!.n)).to.equal(0);
    });

    it('the admin gets the page (200) and every POST (303 back to the page, which answers 200)', async () => {
      expect(await page()).to.include('Locked portal users');
      const token = await h.csrf(h.admin);
      const none = await h.post(UNLOCK, h.admin, { _csrf: token });
      expect(none.status).to.equal(303);
      const back = await h.get(none.headers.get('location')!, h.admin);
      expect(back.status).to.equal(200);
      expect(await back.text()).to.include('Select at least one portal user to unlock.');
      const lift = await h.post(LIFT, h.admin, { _csrf: token, ip: '10.9.9.9' });
      expect(lift.status).to.equal(303);
      const after = await h.get(lift.headers.get('location')!, h.admin);
      expect(after.status).to.equal(200);
      expect(await after.text()).to.include('The address 10.9.9.9 was not banned.');
    });

    it('invalid input gets 400, never a 500', async () => {
      const token = await h.csrf(h.admin);
      expect((await h.get(`${PAGE}?q=${'a'.repeat(101)}`, h.admin)).status).to.equal(400);
      expect((await h.get(`${PAGE}?q=a&q=b`, h.admin)).status).to.equal(400);
      // Control characters in the filter: a clear 400 on the page and on the unlock form, never a 500 from SQL.
      for (const q of ['%00', 'jane%00', '%01doe', '%1F', '%7F', '%C2%85', 'a%09b']) {
        const response = await h.get(`${PAGE}?q=${q}`, h.admin);
        expect(response.status, q).to.equal(400);
        expect(await response.text(), q).to.include('The filter must not contain control characters.');
      }
      expect((await h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(jane), q: 'jane\u0000' })).status).to.equal(400);
      // Any other text is only a filter: quotes, SQL, emoji and wide characters find nobody, with a 200.
      for (const q of ["%27%20OR%201%3D1%20--", '%22%3B%20DROP%20TABLE%20bp_portal_accounts', '%F0%9F%98%80', '%E2%80%8B', '%24pattern', '%3Anamed']) {
        expect((await h.get(`${PAGE}?q=${q}`, h.admin)).status, q).to.equal(200);
      }
      expect((await h.post(LIFT, h.admin, { _csrf: token, ip: '' })).status).to.equal(400);
      expect((await h.post(LIFT, h.admin, { _csrf: token, ip: 'x'.repeat(46) })).status).to.equal(400);
      expect(await h.isLocked(jane)).to.equal(true);
    });
  });

  describe('locked users', () => {
    it('a user locked by 5 failed API logins is listed with contact link, email, attempts, times, address and status', async () => {
      const html = await page();
      expect(listedIds(html)).to.deep.equal([jane]);
      const row = rowsOf(html, 'bp-locked');
      expect(row).to.include(`href="/contacts/${jane}"`);
      expect(row).to.include('Jane Doe');
      expect(row).to.include('jane.doe@example.com');
      expect(row).to.match(/data-label="Failed attempts">5</);
      // Shown as plain IPv4 even through a dual-stack socket (`::ffff:127.0.0.1`).
      expect(row).to.match(/data-label="Source address">(127\.0\.0\.1|::1)</);
      expect(row).to.include('Locked');
      // The lock's time reads as a phrase ("Locked since …", "Bloccato dal giorno …"), not a bare date beside the badge.
      expect(row).to.match(/<time datetime="[^"]+">since [^<]+<\/time>/);
      expect(row.match(/<time datetime=/g)?.length).to.equal(3);
    });

    it('newest lock first; the filter works on name and email in SQL, with LIKE wildcards taken literally', async () => {
      await h.lock('mario.rossi@example.com');
      await h.lock('eve_50%@example.com');
      // Locks within one second tie where the column keeps whole seconds (MariaDB): space them out.
      for (const [contactId, minutesAgo] of [[jane, 3], [mario, 2], [evil, 1]] as const) {
        await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET locked_at = :at WHERE contact_id = :contactId', {
          replacements: { at: new Date(Date.now() - minutesAgo * 60_000), contactId },
        });
      }
      expect(listedIds(await page())).to.deep.equal([evil, mario, jane]);
      expect(listedIds(await page('?q=doe'))).to.deep.equal([jane]);
      expect(listedIds(await page('?q=jane+doe'))).to.deep.equal([jane]);
      expect(listedIds(await page('?q=ROSSI%40example'))).to.deep.equal([mario]);
      expect(listedIds(await page('?q=%25'))).to.deep.equal([evil]);
      expect(listedIds(await page('?q=_'))).to.deep.equal([evil]);
      expect(listedIds(await page('?q=e_5'))).to.deep.equal([evil]);
      expect(listedIds(await page('?q=j%25e'))).to.deep.equal([]);
      const none = await page('?q=nobody');
      expect(none).to.include('No portal user matches “nobody”.');
    });

    it('finds a login by its email typed in the other Unicode spelling (an accent as a letter of its own, or after it)', async () => {
      const zoe = await h.addCustomer({ firstname: 'Zoë', lastname: 'Accent', email: 'zoë.accent@example.com' });
      await h.lock('zoë.accent@example.com', '198.51.100.31');
      expect(listedIds(await page(`?q=${encodeURIComponent('zoë.accent'.normalize('NFD'))}`))).to.deep.equal([zoe]);
      expect(listedIds(await page(`?q=${encodeURIComponent('ZOË.ACCENT'.normalize('NFC'))}`))).to.deep.equal([zoe]);
      // Out of the lists again, for the tests after this one.
      await h.api.database.sequelize.query('UPDATE bp_portal_accounts SET locked_at = NULL, failed_attempts = 0, first_failed_at = NULL, last_failed_at = NULL, reserved_at = NULL WHERE contact_id = :zoe', { replacements: { zoe } });
    });

    it('markup in a contact name or a client address stays inert on the page', async () => {
      const html = await page();
      expect(html).not.to.include('<img src=x onerror=alert(1)>');
      expect(html).to.include('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    });

    it('each lock sends exactly one lock email with an unlock link; more failures while locked send none', async () => {
      await h.mailsSettled();
      for (const contactId of [jane, mario, evil]) expect(lockMails(contactId), `contact ${contactId}`).to.have.length(1);
      await h.portalLogin('jane.doe@example.com', 'Wrong-password-2');
      await h.portalLogin('jane.doe@example.com', PORTAL_PASSWORD);
      await h.mailsSettled();
      expect(lockMails(jane)).to.have.length(1);
      const link = String(lockMails(jane)[0]!.data.portal?.unlockUrl);
      expect(link).to.match(/\/portal\/unlock\?token=[A-Za-z0-9_-]{43}$/);
    });

    it('unlocking several at once: they leave the list, log in at once, and five new failures lock again (and mail again)', async () => {
      const location = await adminUnlock([jane, mario]);
      expect(unsigned(location)).to.equal(`${PAGE}?done=unlocked&count=2&skipped=0`);
      expect(await (await h.get(location, h.admin)).text()).to.include('2 portal users unlocked.');
      expect(listedIds(await page())).to.deep.equal([evil]);
      expect((await h.portalLogin('jane.doe@example.com', PORTAL_PASSWORD)).status).to.equal(200);
      expect((await h.portalLogin('mario.rossi@example.com', PORTAL_PASSWORD)).status).to.equal(200);

      await h.lock('jane.doe@example.com');
      expect(await h.isLocked(jane)).to.equal(true);
      expect((await h.portalLogin('jane.doe@example.com', PORTAL_PASSWORD)).status).to.equal(401);
      await h.mailsSettled();
      expect(lockMails(jane)).to.have.length(2);
    });

    it('every admin action is audited: who, when, what, whether it changed anything', async () => {
      const rows = await h.sql<{ user_name: string; action: string; target: string; applied: unknown; at: unknown }>(
        "SELECT user_name, action, target, applied, at FROM bp_login_check_audit WHERE action = 'unlock' ORDER BY id",
      );
      expect(rows.map((r) => [r.user_name, r.action, r.target])).to.deep.equal([
        ['admin', 'unlock', String(jane)],
        ['admin', 'unlock', String(mario)],
      ]);
      expect(rows.every((r) => r.at !== null && [true, 1, '1'].includes(r.applied as never))).to.equal(true);
      const html = await page();
      // The admin reads whom: the contact's name, and its number beside it (names repeat).
      expect(rowsOf(html, 'bp-audit')).to.include(`Unlocked the portal user of Jane Doe (contact #${jane})`);
      expect(rowsOf(html, 'bp-audit')).not.to.include(`Unlocked the portal user of contact #${jane}`);
      // Unlocking a contact without a portal account changes nothing, says so, and writes no audit
      // entry: an id anyone can type is not an action on anything.
      const location = await adminUnlock([987654]);
      expect(unsigned(location)).to.equal(`${PAGE}?done=unlocked&count=0&skipped=1`);
      const [last] = await h.sql<{ target: string; applied: unknown }>('SELECT target, applied FROM bp_login_check_audit ORDER BY id DESC LIMIT 1');
      expect(last!.target).to.equal(String(mario));
      expect(await h.sql("SELECT id FROM bp_login_check_audit WHERE target = '987654'")).to.deep.equal([]);
    });

    it('names the unlocked contact in the audit, escaped, in the admin’s language, and by number once the contact is gone', async () => {
      // Each lock from an address of its own: the tests' 127.0.0.1 would reach the address's ban.
      await h.lock('eve_50%@example.com', '198.51.100.34');
      await adminUnlock([evil]);
      const gone = await h.addCustomer({ firstname: 'Gary', lastname: 'Gone', email: 'gary.gone@example.com' });
      await h.lock('gary.gone@example.com', '198.51.100.32');
      await adminUnlock([gone]);
      await h.api.records.delete('Contacts', gone);
      const html = rowsOf(await page(), 'bp-audit');
      expect(html).to.include(`Unlocked the portal user of Eve &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; (contact #${evil})`);
      expect(html).not.to.include('<img');
      expect(html).to.include(`Unlocked the portal user of contact #${gone}`);
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const italian = rowsOf(await page(), 'bp-audit');
        expect(italian).to.include(`Sbloccato l’utente portale di Jane Doe (contatto n. ${jane})`);
        expect(italian).to.include(`Sbloccato l’utente portale del contatto n. ${gone}`);
      } finally {
        await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });

    it('lists recent failures of users not locked yet, with their count', async () => {
      await adminUnlock([mario]);
      await h.portalLogin('mario.rossi@example.com', 'Wrong-password-1');
      await h.portalLogin('mario.rossi@example.com', 'Wrong-password-1');
      const html = await page();
      expect(listedIds(html, 'bp-failing')).to.deep.equal([mario]);
      expect(rowsOf(html, 'bp-failing')).to.include('2 of 5');
      expect(listedIds(html, 'bp-locked')).not.to.include(mario);
    });
  });

  describe('banned client addresses', () => {
    const ip = '203.0.113.7';

    it('an address with 100 failures is listed and refused for every account; lifting the ban lets it in again', async () => {
      // 99 failures set up directly; the hundredth through the API, as an attacker would.
      await h.api.database.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, 99, NULL, NULL)', {
        replacements: { ip },
      });
      expect((await h.portalLogin('nobody@example.com', 'Wrong-password-1', ip)).status).to.equal(401);
      expect((await h.portalLogin('mario.rossi@example.com', PORTAL_PASSWORD, ip)).status).to.equal(401);
      const html = await page();
      expect(rowsOf(html, 'bp-banned')).to.include(`data-ip="${ip}"`);
      expect(rowsOf(html, 'bp-banned')).to.match(/data-label="Failures">100</);

      const response = await h.post(LIFT, h.admin, { _csrf: await h.csrf(h.admin), ip });
      expect(response.status).to.equal(303);
      const back = await (await h.get(response.headers.get('location')!, h.admin)).text();
      expect(back).to.include(`The ban of ${ip} was lifted.`);
      expect(back).to.match(new RegExp(`<p class="bp-notice" role="status">The ban of ${ip.replace(/\./g, '\\.')} was lifted\\.</p>`));
      expect(rowsOf(back, 'bp-banned')).to.equal('');
      expect((await h.portalLogin('mario.rossi@example.com', PORTAL_PASSWORD, ip)).status).to.equal(200);
      const [audit] = await h.sql<{ user_name: string; target: string }>("SELECT user_name, target FROM bp_login_check_audit WHERE action = 'lift_ban' AND target = :ip", { ip });
      expect(audit).to.deep.include({ user_name: 'admin', target: ip });
    });

    it('lifting a ban brings the admin back to the filtered page, as an unlock does', async () => {
      const filtered = '203.0.113.8';
      await h.api.database.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, 100, :now, :now)', {
        replacements: { ip: filtered, now: new Date() },
      });
      // The forms of the filtered page carry its filter.
      const html = await page('?q=rossi');
      const liftForm = new RegExp(`<form method="post" action="${PAGE}/lift-ban">[\\s\\S]*?</form>`).exec(html)?.[0] ?? '';
      expect(liftForm).to.include('<input type="hidden" name="q" value="rossi">');
      const token = await h.csrf(h.admin);
      const unlock = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(mario), q: 'rossi' });
      expect(new URL(unlock.headers.get('location')!, h.url).searchParams.get('q')).to.equal('rossi');
      const lift = await h.post(LIFT, h.admin, { _csrf: token, ip: filtered, q: 'rossi' });
      expect(lift.status).to.equal(303);
      const location = new URL(lift.headers.get('location')!, h.url);
      expect(location.pathname).to.equal(PAGE);
      expect(Object.fromEntries([...location.searchParams].filter(([key]) => key !== 'sig'))).to.deep.equal({ q: 'rossi', done: 'lifted', ip: filtered });
      const back = await (await h.get(lift.headers.get('location')!, h.admin)).text();
      expect(back).to.include(`The ban of ${filtered} was lifted.`);
      expect(back).to.include('name="q" value="rossi"');
      // A filter the page would refuse is refused on the form too, and lifts nothing.
      const other = '203.0.113.9';
      await h.api.database.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, 100, :now, :now)', {
        replacements: { ip: other, now: new Date() },
      });
      expect((await h.post(LIFT, h.admin, { _csrf: token, ip: other, q: 'x\u0000' })).status).to.equal(400);
      expect((await h.post(LIFT, h.admin, { _csrf: token, ip: other, q: 'x'.repeat(101) })).status).to.equal(400);
      expect(rowsOf(await page(), 'bp-banned')).to.include(`data-ip="${other}"`);
    });
  });

  describe('unlock links', () => {
    const unlockPath = '/portal/unlock';
    const openLink = (token: string) => h.get(`${unlockPath}?token=${encodeURIComponent(token)}`);
    const useLink = (token: string) => h.post(unlockPath, undefined, { token });

    it('GET shows a confirmation with a POST button and changes nothing; POST unlocks once, recorded as by link', async () => {
      await h.mailsSettled();
      const token = unlockTokenOf(lockMails(jane).at(-1)!);
      for (let i = 0; i < 2; i++) {
        const shown = await openLink(token);
        expect(shown.status).to.equal(200);
        const html = await shown.text();
        expect(html).to.include('<form method="post" action="/portal/unlock">');
        expect(html).to.include('<button type="submit" class="bp-button">Unlock my account</button>');
      }
      expect(await h.isLocked(jane)).to.equal(true);

      const used = await useLink(token);
      expect(used.status).to.equal(200);
      // The answer's sentence is a status present at load, which screen readers do not announce: the title says it first.
      expect(await used.text()).to.include('Your account is unlocked.').and.include('<title>Your account is unlocked. You can sign in again. · Unlock your account · Customer portal</title>');
      expect(await h.isLocked(jane)).to.equal(false);
      expect((await h.portalLogin('jane.doe@example.com', PORTAL_PASSWORD)).status).to.equal(200);
      const [event] = await h.sql<{ event: string; reason: string }>(
        "SELECT event, reason FROM bp_login_history WHERE contact_id = :jane AND event = 'unlocked' ORDER BY id DESC LIMIT 1",
        { jane },
      );
      expect(event).to.deep.equal({ event: 'unlocked', reason: 'unlock_link' });

      // Reused: refused, even once the account is locked again.
      await h.lock('jane.doe@example.com');
      expect((await useLink(token)).status).to.equal(400);
      const reopened = await openLink(token);
      expect(reopened.status).to.equal(400);
      expect(await reopened.text()).to.include('<title>Error: This unlock link is no longer valid: it was used already, it has expired, the account is no longer locked, or the account’s email address has changed since it was sent. · Unlock your account · Customer portal</title>');
      expect(await h.isLocked(jane)).to.equal(true);
    });

    it('offers the language switch of the other sign-in pages: it comes back to the same link, which then reads Italian', async () => {
      await h.mailsSettled();
      const link = `/unlock?token=${encodeURIComponent(unlockTokenOf(lockMails(jane).at(-1)!))}`;
      const visitor = new PortalClient(`${h.url}/portal`, { 'accept-language': 'en' });
      const shown = await visitor.get(link);
      expect(shown.response.status).to.equal(200);
      expect(shown.html).to.include('<select id="bp-language-select" name="language"');
      const returnTo = /name="returnTo" value="([^"]*)"/.exec(shown.html)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      const switched = await visitor.post('/language', { _csrf: tokenIn(shown.html), language: 'it', returnTo });
      expect(switched.response.headers.get('location')).to.equal(`/portal${link}`);
      const italian = await visitor.get(link);
      expect(italian.html).to.include('<html lang="it">').and.include('<h1 id="bp-unlock-title">Sblocca il tuo account</h1>');
      expect(await h.isLocked(jane)).to.equal(true);
    });

    it('an expired link is refused and changes nothing', async () => {
      await h.mailsSettled();
      const token = unlockTokenOf(lockMails(jane).at(-1)!);
      await h.api.database.sequelize.query('UPDATE bp_unlock_links SET expires_at = :past WHERE contact_id = :jane AND used_at IS NULL', {
        replacements: { past: new Date(Date.now() - 60_000), jane },
      });
      expect((await openLink(token)).status).to.equal(400);
      expect((await useLink(token)).status).to.equal(400);
      expect(await h.isLocked(jane)).to.equal(true);
    });

    it('a link dies when an admin unlocks the account, and stays dead after the next lock', async () => {
      await adminUnlock([jane]);
      await h.lock('jane.doe@example.com');
      await h.mailsSettled();
      const mails = lockMails(jane);
      const fresh = unlockTokenOf(mails.at(-1)!);
      await adminUnlock([jane]);
      await h.lock('jane.doe@example.com');
      expect((await openLink(fresh)).status).to.equal(400);
      expect((await useLink(fresh)).status).to.equal(400);
      expect(await h.isLocked(jane)).to.equal(true);
    });

    it('unknown and malformed tokens get the same refusal', async () => {
      for (const token of ['', 'x', 'A'.repeat(43), `${'A'.repeat(42)}'`, XSS]) {
        const shown = await openLink(token);
        expect(shown.status, token).to.equal(400);
        expect(await shown.text()).not.to.include(XSS);
        expect((await useLink(token)).status, token).to.equal(400);
      }
      expect((await h.get(unlockPath)).status).to.equal(400);
    });

    it('the token is stored hashed, never in plain text', async () => {
      await h.mailsSettled();
      const token = unlockTokenOf(lockMails(jane).at(-1)!);
      const rows = await h.sql<{ token_hash: string }>('SELECT token_hash FROM bp_unlock_links');
      expect(rows.length).to.be.greaterThan(0);
      expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.token_hash) && row.token_hash !== token)).to.equal(true);
    });
  });

  describe('nothing to unlock or lift', () => {
    // A notice that nothing was done is announced at once (role=alert); one that something was done waits its turn (role=status).
    const noticeOf = (html: string) => /<p class="bp-notice[^"]*" role="alert">([^<]*)<\/p>/.exec(html)?.[1] ?? null;
    const historyOf = (sql: string, replacements: Record<string, unknown>) => h.sql<{ reason: string }>(sql, replacements);

    it('unlocking a user who is not locked changes nothing, records no unlock and says so', async () => {
      const nora = await h.addCustomer({ firstname: 'Nora', lastname: 'Notlocked', email: 'nora.notlocked@example.com' });
      for (let i = 0; i < 2; i++) expect((await h.portalLogin('nora.notlocked@example.com', 'Wrong-password-1')).status).to.equal(401);
      await h.lock('jane.doe@example.com'); // something listed, so that the page holds a form token
      const location = await adminUnlock([nora]);
      expect(unsigned(location)).to.equal(`${PAGE}?done=unlocked&count=0&skipped=1`);
      const html = await (await h.get(location, h.admin)).text();
      expect(noticeOf(html)).to.equal('Nothing was unlocked: the selected portal users were not locked, or have no portal account.');
      // Her failures stay as they were; no unlock is in her login history.
      const [row] = await h.sql<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE contact_id = :nora', { nora });
      expect(Number(row!.failed_attempts)).to.equal(2);
      expect(await historyOf("SELECT reason FROM bp_login_history WHERE contact_id = :nora AND event = 'unlocked'", { nora })).to.deep.equal([]);
      // Nothing changed, so nothing is audited: the audit holds what admins did, not ids a form sent.
      expect(await h.sql("SELECT id FROM bp_login_check_audit WHERE action = 'unlock' AND target = :nora", { nora: String(nora) })).to.deep.equal([]);
      expect(rowsOf(html, 'bp-audit')).not.to.include(`#${nora}`);
    });

    it('forged ids (not numbers, out of range, nobody, not locked) unlock nothing and write no audit entry: the page says how many were skipped', async () => {
      const fay = await h.addCustomer({ firstname: 'Fay', lastname: 'Forged', email: 'fay.forged@example.com' });
      await h.lock('fay.forged@example.com');
      const nobody = await h.addCustomer({ firstname: 'No', lastname: 'Lock', email: 'no.lock@example.com' });
      const token = await h.csrf(h.admin);
      const auditBefore = await h.sql<{ id: unknown }>('SELECT id FROM bp_login_check_audit');
      const forged = ['abc', '-1', '0', '1.5', '01', '99999999999', `1' OR 1=1`, '', '2147483647', String(nobody)];
      // Only forged ids: no error page, nothing changed, nothing audited.
      const none = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: forged, q: 'forged' });
      expect(none.status).to.equal(303);
      expect(unsigned(none.headers.get('location'))).to.equal(`${PAGE}?q=forged&done=unlocked&count=0&skipped=${forged.length}`);
      expect(await h.isLocked(fay)).to.equal(true);
      expect(await h.sql<{ id: unknown }>('SELECT id FROM bp_login_check_audit')).to.deep.equal(auditBefore);
      // Beside a locked user: she is unlocked and audited, the rest only counted.
      const some = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: [...forged, String(fay), String(fay)] });
      const location = some.headers.get('location')!;
      expect(unsigned(location)).to.equal(`${PAGE}?done=unlocked&count=1&skipped=${forged.length}`);
      expect(await h.isLocked(fay)).to.equal(false);
      const audit = await h.sql<{ target: string; applied: unknown }>('SELECT target, applied FROM bp_login_check_audit WHERE id NOT IN (:before)', {
        before: auditBefore.length > 0 ? auditBefore.map((row) => row.id) : [0],
      });
      expect(audit.map((row) => row.target)).to.deep.equal([String(fay)]);
      expect([true, 1, '1']).to.include(audit[0]!.applied as never);
      const html = await (await h.get(location, h.admin)).text();
      expect(/<p class="bp-notice[^"]*" role="status">([^<]*)<\/p>/.exec(html)?.[1]).to.equal(
        `1 portal user unlocked. ${forged.length} selected were not locked any more or have no portal account.`,
      );
    });

    it('lifting the ban of an address that is not banned keeps its failures, records nothing and says so', async () => {
      const ip = '198.51.100.8';
      for (let i = 0; i < 8; i++) expect((await h.portalLogin('nobody.here@example.com', 'Wrong-password-1', ip)).status).to.equal(401);
      const failures = async () => Number((await h.sql<{ failures: unknown }>('SELECT failures FROM bp_client_failures WHERE ip = :ip', { ip }))[0]?.failures ?? 0);
      expect(await failures()).to.equal(8);

      const response = await h.post(LIFT, h.admin, { _csrf: await h.csrf(h.admin), ip });
      expect(response.status).to.equal(303);
      expect(unsigned(response.headers.get('location'))).to.equal(`${PAGE}?done=notBanned&ip=${ip}`);
      const html = await (await h.get(response.headers.get('location')!, h.admin)).text();
      expect(noticeOf(html)).to.equal(`The address ${ip} was not banned.`);
      expect(await failures()).to.equal(8);
      expect(await historyOf("SELECT reason FROM bp_login_history WHERE ip = :ip AND event = 'unlocked'", { ip })).to.deep.equal([]);
      expect(rowsOf(html, 'bp-audit')).to.include(`Asked to lift the ban of ${ip}, which was not banned`);

      // A recorded address that is no IP (the host's "unknown") is not echoed, and the page still says it.
      const unknown = await h.post(LIFT, h.admin, { _csrf: await h.csrf(h.admin), ip: 'unknown' });
      expect(unsigned(unknown.headers.get('location'))).to.equal(`${PAGE}?done=notBanned`);
      expect(noticeOf(await (await h.get(unknown.headers.get('location')!, h.admin)).text())).to.equal('That address was not banned: nothing was changed.');
    });

    it('parallel unlocks of one locked user and parallel lifts of one ban: exactly one applies and is recorded', async () => {
      const olga = await h.addCustomer({ firstname: 'Olga', lastname: 'Race', email: 'olga.race@example.com' });
      await h.lock('olga.race@example.com');
      const token = await h.csrf(h.admin);
      const unlocks = await Promise.all(Array.from({ length: 6 }, () => h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(olga) })));
      expect(unlocks.map((r) => r.headers.get('location')).filter((l) => l?.includes('count=1')).length).to.equal(1);
      expect(await historyOf("SELECT reason FROM bp_login_history WHERE contact_id = :olga AND event = 'unlocked'", { olga })).to.have.length(1);
      expect(await h.isLocked(olga)).to.equal(false);

      const ip = '198.51.100.9';
      await h.api.database.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, 100, :now, :now)', {
        replacements: { ip, now: new Date() },
      });
      const lifts = await Promise.all(Array.from({ length: 6 }, () => h.post(LIFT, h.admin, { _csrf: token, ip })));
      expect(lifts.map((r) => r.headers.get('location')).filter((l) => l?.includes('done=lifted')).length).to.equal(1);
      expect(await historyOf("SELECT reason FROM bp_login_history WHERE ip = :ip AND event = 'unlocked'", { ip })).to.have.length(1);
    });
  });

  describe('an action whose audit entry cannot be written', () => {
    // The audit table out of reach (renamed for the test): its INSERT fails as on a full disk or a dropped connection.
    const AWAY = 'bp_login_check_audit_away';
    async function withoutAudit<T>(act: () => Promise<T>): Promise<T> {
      const tables = h.api.database.sequelize.getQueryInterface();
      await tables.renameTable('bp_login_check_audit', AWAY);
      try {
        return await act();
      } finally {
        await tables.renameTable(AWAY, 'bp_login_check_audit');
      }
    }
    const count = async (sql: string, replacements: Record<string, unknown>) => Number((await h.sql<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`, replacements))[0]!.n);

    it('unlocks no one: the lock, the login history and the emailed unlock link stay as they were', async () => {
      const uma = await h.addCustomer({ firstname: 'Uma', lastname: 'Unaudited', email: 'uma.unaudited@example.com' });
      await h.lock('uma.unaudited@example.com');
      await h.mailsSettled();
      const history = () => count("bp_login_history WHERE contact_id = :uma AND event = 'unlocked'", { uma });
      const liveLinks = () => count('bp_unlock_links WHERE contact_id = :uma AND used_at IS NULL AND revoked_at IS NULL', { uma });
      expect(await liveLinks(), 'the lock mail’s link').to.equal(1);
      const token = await h.csrf(h.admin);
      const response = await withoutAudit(() => h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(uma) }));
      expect(response.status).to.equal(500);
      expect(await response.text()).not.to.include('bp_login_check_audit');
      // Unlocked without a trace of who did it, the page saying it failed: an unlock no one can account for.
      expect(await h.isLocked(uma), 'still locked').to.equal(true);
      expect(await history(), 'no unlock in the login history').to.equal(0);
      expect(await liveLinks(), 'the link still unlocks').to.equal(1);
      // With the audit back, the same request unlocks and is recorded.
      expect((await h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(uma) })).headers.get('location')).to.include('count=1');
      expect(await h.isLocked(uma)).to.equal(false);
      expect(await history()).to.equal(1);
      expect(await count("bp_login_check_audit WHERE action = 'unlock' AND target = :uma", { uma: String(uma) })).to.equal(1);
    });

    /** The host log's lines (info and warn) while `act` runs, whatever it answers. */
    async function logsOf(act: () => Promise<unknown>): Promise<string[]> {
      const captured = [captureLogs(h.api, 'info'), captureLogs(h.api, 'warn')];
      try {
        await act();
      } finally {
        for (const capture of captured) capture.restore();
      }
      return captured.flatMap((capture) => capture.lines.map((line) => line.message)).filter((message) => message.startsWith('Business Portal:'));
    }

    it('logs nothing of an unlock it rolled back: the host log tells only of what the database kept', async () => {
      const una = await h.addCustomer({ firstname: 'Una', lastname: 'Unlogged', email: 'una.unlogged@example.com' });
      await h.lock('una.unlogged@example.com');
      await h.mailsSettled();
      const token = await h.csrf(h.admin);
      let status = 0;
      const failed = await logsOf(async () => {
        status = (await withoutAudit(() => h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(una) }))).status;
      });
      expect(status).to.equal(500);
      expect(await h.isLocked(una)).to.equal(true);
      // The request's own failure is logged (as an error); no line claims an unlock.
      expect(failed).to.deep.equal([]);
      // The same request once it holds: the unlock and the admin's action, each logged once.
      const done = await logsOf(() => h.post(UNLOCK, h.admin, { _csrf: token, contactId: String(una) }));
      expect(await h.isLocked(una)).to.equal(false);
      expect(done).to.deep.equal(['Business Portal: portal login unlocked', 'Business Portal: an admin unlocked a portal user']);
    });

    it('logs nothing of an unlock or a lifted ban whose COMMIT fails', async () => {
      const vic = await h.addCustomer({ firstname: 'Vic', lastname: 'Uncommitted', email: 'vic.uncommitted@example.com' });
      await h.lock('vic.uncommitted@example.com');
      await h.mailsSettled();
      const ip = '192.0.2.78';
      await h.api.database.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, 100, :now, :now)', {
        replacements: { ip, now: new Date() },
      });
      const admin = (await h.api.users.users()).find((user) => user.userName === 'admin')!;
      const audit = new SequelizeLoginCheckAudit(h.api.database, h.api.logger);
      const refuseCommit = await commitRefuser(h.api.database.sequelize);
      let refused: unknown = null;
      const logged = await logsOf(async () => {
        try {
          await h.api.database.sequelize.transaction(async (transaction) => {
            expect(await h.lockout.unlock(vic, admin.id, { transaction })).to.equal(true);
            await audit.record(admin, 'unlock', String(vic), true, { transaction });
            expect(await h.lockout.liftBan(ip, admin.id, { transaction })).to.equal(true);
            await audit.record(admin, 'lift_ban', ip, true, { transaction });
            await refuseCommit(transaction);
          });
        } catch (error) {
          refused = error;
        }
      });
      expect(refused, 'the COMMIT failed').not.to.equal(null);
      expect(await h.isLocked(vic), 'still locked').to.equal(true);
      expect(await count('bp_client_failures WHERE ip = :ip AND banned_at IS NOT NULL', { ip }), 'still banned').to.equal(1);
      expect(logged).to.deep.equal([]);
    });

    it('lifts no ban: the address stays banned, with nothing in the login history', async () => {
      const ip = '192.0.2.77';
      await h.api.database.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, 100, :now, :now)', {
        replacements: { ip, now: new Date() },
      });
      const token = await h.csrf(h.admin);
      const response = await withoutAudit(() => h.post(LIFT, h.admin, { _csrf: token, ip }));
      expect(response.status).to.equal(500);
      expect(await count('bp_client_failures WHERE ip = :ip AND banned_at IS NOT NULL', { ip }), 'still banned').to.equal(1);
      expect(await count("bp_login_history WHERE ip = :ip AND event = 'unlocked'", { ip })).to.equal(0);
      expect((await h.post(LIFT, h.admin, { _csrf: token, ip })).headers.get('location')).to.include('done=lifted');
      expect(await count("bp_login_check_audit WHERE action = 'lift_ban' AND target = :ip", { ip })).to.equal(1);
    });
  });

  describe('login history on the Contact record', () => {
    it('shows the last events with time, client address and who unlocked, escaped', async () => {
      await h.lock('mario.rossi@example.com');
      expect(await adminUnlock([mario])).to.include('count=1');
      await h.portalLogin('mario.rossi@example.com', 'Wrong-password-1', XSS);
      // The reference host records no text that is no IP address (test/security/forwarded-addresses.test.ts):
      // a stored one (another host's, an older row's) is shown escaped.
      await h.api.database.sequelize.query("UPDATE bp_login_history SET ip = :xss WHERE contact_id = :mario AND reason = 'wrong_password'", { replacements: { xss: XSS, mario } });
      for (let i = 0; i < 7; i++) expect((await h.portalLogin('mario.rossi@example.com', PORTAL_PASSWORD)).status).to.equal(200);
      const [events] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_login_history WHERE contact_id = :mario', { mario });
      expect(Number(events!.n), 'enough events to show the limit').to.be.greaterThan(20);
      const response = await h.get(`/contacts/${mario}`, h.admin);
      expect(response.status).to.equal(200);
      const html = await response.text();
      expect(html).to.include('id="block-business-portal.contact"');
      expect(html).to.include('Business Portal information');
      expect(html).to.include('Portal login history');
      expect(html).not.to.include(XSS);
      expect(html).to.include('&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;');
      expect(html).to.include('Sign-in refused: wrong password');
      expect(html).to.include('Signed in');
      expect(html).to.include('Locked after too many failed sign-ins');
      expect(html).to.include('Unlocked by Ada Admin');
      const rows = html.match(/<tr data-event="/g) ?? [];
      expect(rows.length).to.equal(20);
    });

    it('records the fifth failure before the lock it causes: newest first, the lock reads above its cause', async () => {
      const olga = await h.addCustomer({ firstname: 'Olga', lastname: 'Order', email: 'olga.order@example.com' });
      await h.lock('olga.order@example.com', '198.51.100.33');
      const events = await h.sql<{ event: string; reason: string }>('SELECT event, reason FROM bp_login_history WHERE contact_id = :olga ORDER BY id', { olga });
      expect(events.map((e) => `${e.event}:${e.reason}`)).to.deep.equal([
        ...Array.from({ length: 5 }, () => 'failed:wrong_password'),
        'locked:too_many_failures',
      ]);
      const html = await (await h.get(`/contacts/${olga}`, h.admin)).text();
      const shown = [...html.matchAll(/<tr data-event="([a-z_]+)"/g)].map((m) => m[1]);
      expect(shown.slice(0, 2)).to.deep.equal(['locked', 'failed']);
    });

    it('shows unlocks by link, and speaks the CRM user’s language', async () => {
      const luca = await h.addCustomer({ firstname: 'Luca', lastname: 'Bianchi', email: 'luca.bianchi@example.com', language: 'it' });
      await h.lock('luca.bianchi@example.com');
      await h.mailsSettled();
      const unlocked = await h.post('/portal/unlock', undefined, { token: unlockTokenOf(lockMails(luca)[0]!) });
      expect(unlocked.status).to.equal(200);
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const html = await (await h.get(`/contacts/${luca}`, h.admin)).text();
        expect(html).to.include('Informazioni Business Portal');
        expect(html).to.include('Sbloccato tramite il link inviato per email');
        expect(html).to.include('Accesso rifiutato: password errata');
      } finally {
        await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });

    it('names in words the refusals of a second-factor code and of a reset link, and the sessions the portal ended, never by their stored code', async () => {
      const nina = await h.addCustomer({ firstname: 'Nina', lastname: 'Verdi', email: 'nina.verdi@example.com', language: 'it' });
      // The reasons the sign-in code (two-factor.ts), the reset link (password-reset.ts) and a second
      // factor no method can deliver (login-service.ts) store.
      for (const reason of ['wrong_code', 'code_expired_or_used', 'reset_link_invalid', 'second_factor_unavailable']) {
        await h.api.database.sequelize.query("INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (:nina, NULL, 'failed', :reason, '192.0.2.1', :at)", {
          replacements: { nina, reason, at: new Date() },
        });
      }
      // And the session families the portal ended (portal-sessions.ts): on a replayed remember-me
      // token, and one opened with the password alone once its profile asked for the second factor.
      for (const reason of ['token_replayed', 'second_factor_required']) {
        await h.api.database.sequelize.query("INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (:nina, NULL, 'revoked', :reason, '192.0.2.9', :at)", {
          replacements: { nina, reason, at: new Date() },
        });
      }
      const english = await (await h.get(`/contacts/${nina}`, h.admin)).text();
      expect(english).to.include('Remembered sign-in ended: its cookie was used again after it had been replaced (probably copied)');
      expect(english).to.include('Signed out: the profile now asks for two-factor authentication, which this sign-in had not passed');
      expect(english).not.to.match(/token_replayed|second_factor_required|>revoked</);
      expect(english).to.include('Sign-in refused: wrong sign-in code');
      expect(english).to.include('Sign-in refused: sign-in code expired or already used');
      expect(english).to.include('Sign-in refused: password reset link invalid or expired');
      expect(english).to.include('Sign-in refused: the profile’s two-factor authentication cannot reach the contact');
      expect(english).not.to.match(/wrong_code|code_expired_or_used|reset_link_invalid|second_factor_unavailable/);
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const italian = await (await h.get(`/contacts/${nina}`, h.admin)).text();
        expect(italian).to.include('Accesso rifiutato: codice di verifica errato');
        expect(italian).to.include('Accesso memorizzato (Ricordami) terminato: il suo cookie è stato riutilizzato dopo essere stato sostituito (probabilmente copiato)');
        expect(italian).to.include('Accesso rifiutato: l’autenticazione a due fattori del profilo non può raggiungere il contatto');
        expect(italian).to.include('Disconnesso: il profilo ora richiede l’autenticazione a due fattori, che questo accesso non aveva superato');
        expect(italian).not.to.match(/wrong_code|code_expired_or_used|reset_link_invalid|second_factor_unavailable/);
      } finally {
        await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });

    it('older events than the block’s 20 are on a paged page for admins, escaped, in the admin’s language', async () => {
      const olga = await h.addCustomer({ firstname: 'Olga', lastname: 'Older', email: 'olga.older@example.com' });
      // 130 events: the oldest a sign-in from an address holding markup, then 129 refusals a minute apart.
      const start = Date.now() - 200 * 60_000;
      await h.api.database.sequelize.query("INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (:olga, NULL, 'login', NULL, :ip, :at)", {
        replacements: { olga, ip: XSS.slice(0, 45), at: new Date(start) },
      });
      for (let i = 1; i < 130; i++) {
        await h.api.database.sequelize.query("INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (:olga, NULL, 'failed', 'wrong_password', '192.0.2.1', :at)", {
          replacements: { olga, at: new Date(start + i * 60_000) },
        });
      }
      const history = `/settings/business-portal/contacts/${olga}/login-history`;
      const block = await (await h.get(`/contacts/${olga}`, h.admin)).text();
      expect(block).to.include(`href="${history}"`);
      expect(block.match(/<tr data-event="/g) ?? []).to.have.length(20);
      expect((await (await h.get(`/contacts/${olga}`, h.clerk)).text()).includes(`href="${history}"`), 'the page is an admin page').to.equal(false);

      const rowsOn = (html: string) => html.match(/<tr data-event="/g) ?? [];
      const first = await h.get(history, h.admin);
      expect(first.status).to.equal(200);
      const firstHtml = await first.text();
      expect(firstHtml).to.include('Olga Older');
      expect(rowsOn(firstHtml)).to.have.length(50);
      expect(firstHtml).to.include('Events 1–50 of 130');
      expect(firstHtml).to.include(`href="${history}?page&#x3D;2"`);
      expect(firstHtml).to.include(`href="/contacts/${olga}"`);
      const last = await (await h.get(`${history}?page=3`, h.admin)).text();
      expect(rowsOn(last)).to.have.length(30);
      expect(last).to.include('Events 101–130 of 130');
      expect(last).to.include(`href="${history}?page&#x3D;2"`);
      expect(last).not.to.include(`href="${history}?page&#x3D;4"`);
      expect(last).to.include('Signed in');
      expect(last).not.to.include(XSS);
      expect(last).to.include('&lt;script&gt;');

      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const italian = await (await h.get(`${history}?page=2`, h.admin)).text();
        expect(italian).to.include('Cronologia degli accessi al portale');
        expect(italian).to.include('Eventi 51–100 di 130');
        expect(italian).to.include('Accesso rifiutato: password errata');
      } finally {
        await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }

      for (const query of ['?page=0', '?page=abc', '?page=1&page=2', '?page=99999999999']) expect((await h.get(`${history}${query}`, h.admin)).status, query).to.equal(400);
      expect((await h.get(`${history}?page=4`, h.admin)).status).to.equal(404);
      expect((await h.get('/settings/business-portal/contacts/999999/login-history', h.admin)).status).to.equal(404);
      expect((await h.get(history, h.clerk)).status).to.equal(403);
    });

    it('a contact without portal events says so', async () => {
      const other = await h.api.records.create('Contacts', { values: { firstname: 'No', lastname: 'Portal' } });
      const html = await (await h.get(`/contacts/${other.id}`, h.admin)).text();
      expect(html).to.include('No portal sign-in events yet.');
    });
  });
});
