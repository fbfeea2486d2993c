/**
 * Support-ending reminders (SPEC §3): one email a month and one a week before the support end
 * date, each sent once — when the sweep runs twice, and when several sweepers (as several host
 * processes would) run at the same moment on one database. Mail through a real SMTP server.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { openDatabase, type OpenedDatabase } from '../../host/database.js';
import { addDays, addMonths, reminderDue } from '../../plugin/contacts/support-reminders.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { PluginMigrator } from '../../plugin/lifecycle/plugin-migrator.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';
import { startContactsHost, type ContactsHost } from './contacts-fixture.js';

const END = '2030-06-30';

describe('contacts: support-ending reminder days', () => {
  it('counts calendar months and days, clamping to the month’s end', () => {
    expect(addMonths('2030-06-30', -1)).to.equal('2030-05-30');
    expect(addMonths('2030-03-31', -1)).to.equal('2030-02-28');
    expect(addMonths('2032-03-31', -1)).to.equal('2032-02-29');
    expect(addMonths('2030-01-15', -1)).to.equal('2029-12-15');
    expect(addDays('2030-03-03', -7)).to.equal('2030-02-24');
  });

  it('makes the month reminder due a month before, the week reminder a week before, nothing after the end', () => {
    expect(reminderDue('2030-05-29', END)).to.equal(null);
    expect(reminderDue('2030-05-30', END)).to.equal('month');
    expect(reminderDue('2030-06-22', END)).to.equal('month');
    expect(reminderDue('2030-06-23', END)).to.equal('week');
    expect(reminderDue(END, END)).to.equal('week');
    expect(reminderDue('2030-07-01', END)).to.equal(null);
  });
});

describe('contacts: support-ending reminders @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;
  let jane: number;
  let mario: number;
  let off: number;

  async function portalUser(values: Record<string, string>, end: string): Promise<number> {
    const id = await h.addContact(values);
    const saved = await h.savePortalUser(id, { portalUser: 'yes', supportEndDate: end });
    expect(saved.status, saved.html).to.equal(200);
    await h.mailbox.waitFor(values.email!, { subject: /access|accesso/ });
    return id;
  }

  function reminders(to: string): string[] {
    return h.mailbox.received
      .filter((mail) => /ends soon|scade presto/.test(mail.subject ?? '') && (Array.isArray(mail.to) ? mail.to : [mail.to]).some((a) => a?.text.includes(to)))
      .map((mail) => mail.subject ?? '');
  }

  before(async () => {
    h = await startContactsHost();
    jane = await portalUser({ firstname: 'Jane', lastname: 'Reminded', email: 'jane.reminded@example.com' }, END);
    mario = await portalUser({ firstname: 'Mario', lastname: 'Avvisato', email: 'mario.avvisato@example.com', language: 'it' }, END);
    off = await portalUser({ firstname: 'Switched', lastname: 'Off', email: 'switched.off@example.com' }, END);
    expect((await h.savePortalUser(off, { portalUser: 'no', supportEndDate: END })).status).to.equal(200);
  });
  after(async () => h?.stop());

  it('sends nothing before the month reminder is due', async () => {
    const result = await h.reminders.sweep('2030-05-29');
    expect(result.sent).to.deep.equal([]);
  });

  it('sends the month reminder once, in the contact’s language, with the end date', async () => {
    const first = await h.reminders.sweep('2030-05-30');
    expect(first.sent.map((s) => [s.contactId, s.kind]).sort()).to.deep.equal([[jane, 'month'], [mario, 'month']].sort());
    const again = await h.reminders.sweep('2030-05-30');
    const later = await h.reminders.sweep('2030-06-10');
    expect(again.sent).to.deep.equal([]);
    expect(later.sent).to.deep.equal([]);
    expect(reminders('jane.reminded@example.com')).to.deep.equal(['Your portal access ends soon']);
    expect(reminders('mario.avvisato@example.com')).to.deep.equal(['Il tuo accesso al portale scade presto']);
    const mail = h.mailbox.received.find((m) => m.subject === 'Your portal access ends soon')!;
    // The end day as each language writes a date (no time, no time zone shift), never the ISO form.
    expect(mail.text).to.include('your access to the customer portal ends on June 30, 2030.');
    expect(mail.html).to.include('ends on June 30, 2030.');
    expect(mail.text).not.to.include(END);
    expect(mail.text).to.include('Dear Jane,');
    const italian = h.mailbox.received.find((m) => m.subject === 'Il tuo accesso al portale scade presto')!;
    expect(italian.text).to.include('il tuo accesso al portale clienti termina il giorno 30 giugno 2030.');
    expect(italian.text).not.to.include(END);
    expect(reminders('switched.off@example.com'), 'no reminder for a contact who is no portal user').to.deep.equal([]);
  });

  it('sends the week reminder once even when several sweepers run at the same moment', async () => {
    const sweepers = [h.reminders, h.otherProcessReminders(), h.otherProcessReminders()];
    const results = await Promise.all([...sweepers, ...sweepers].map((sweeper) => sweeper.sweep('2030-06-25')));
    const sent = results.flatMap((result) => result.sent);
    expect(sent.filter((s) => s.contactId === jane)).to.deep.equal([{ contactId: jane, kind: 'week', supportEndDate: END }]);
    expect(sent.filter((s) => s.contactId === mario)).to.have.length(1);
    expect(reminders('jane.reminded@example.com')).to.have.length(2);
    expect(reminders('mario.avvisato@example.com')).to.have.length(2);
    const rows = await h.sql<{ contact_id: unknown; kind: string }>('SELECT contact_id, kind FROM bp_support_reminders WHERE contact_id = :jane ORDER BY kind', { jane });
    expect(rows.map((row) => row.kind)).to.deep.equal(['month', 'week']);
    expect((await h.reminders.sweep(END)).sent).to.deep.equal([]);
    expect((await h.reminders.sweep('2030-07-01')).sent).to.deep.equal([]);
  });

  it('a renewed support period gets reminders of its own', async () => {
    const { token, version } = await h.formToken(jane);
    const saved = await h.savePortalUser(jane, { portalUser: 'yes', supportEndDate: '2031-06-30', version }, { csrf: token });
    expect(saved.status).to.equal(200);
    const result = await h.reminders.sweep('2031-06-01');
    expect(result.sent).to.deep.equal([{ contactId: jane, kind: 'month', supportEndDate: '2031-06-30' }]);
  });

  it('a contact deleted loses its reminder records with its account', async () => {
    await h.api.records.delete('Contacts', mario);
    const rows = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_support_reminders WHERE contact_id = :mario', { mario });
    expect(Number(rows[0]!.n)).to.equal(0);
  });

  it('a reminder whose mail fails is not recorded, so a later sweep sends it', async () => {
    const id = await portalUser({ firstname: 'Flaky', lastname: 'Mail', email: 'flaky.mail@example.com' }, '2030-09-30');
    const failing = h.otherProcessReminders(async () => {
      throw new Error('SMTP down');
    });
    const failed = await failing.sweep('2030-09-01');
    expect(failed.sent).to.deep.equal([]);
    expect(failed.failed).to.equal(1);
    const [row] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_support_reminders WHERE contact_id = :id', { id });
    expect(Number(row!.n)).to.equal(0);
    expect((await h.reminders.sweep('2030-09-01')).sent).to.deep.equal([{ contactId: id, kind: 'month', supportEndDate: '2030-09-30' }]);
    expect(reminders('flaky.mail@example.com')).to.have.length(1);
  });

  it('a reminder the host keeps to try again (the mail server did not take it now) is recorded as sent, never sent twice', async () => {
    const id = await portalUser({ firstname: 'Queued', lastname: 'Mail', email: 'queued.mail@example.com' }, '2030-10-31');
    let offered = 0;
    let discardAfter: Date | undefined;
    const keeping = h.otherProcessReminders(async (_kind, _contact, _data, options) => {
      offered += 1;
      discardAfter = options?.discardAfter;
      return 'kept_for_retry';
    });
    expect((await keeping.sweep('2030-10-01')).sent).to.deep.equal([{ contactId: id, kind: 'month', supportEndDate: '2030-10-31' }]);
    expect((await keeping.sweep('2030-10-02')).sent).to.deep.equal([]);
    expect((await h.reminders.sweep('2030-10-02')).sent).to.deep.equal([]);
    expect(offered).to.equal(1);
    expect(reminders('queued.mail@example.com')).to.have.length(0);
    // Kept, it is never delivered once the support has ended: after the end day, in the CRM's time zone.
    const day = (instant: number) => new Intl.DateTimeFormat('en-CA', { timeZone: h.api.regional.timeZone(), dateStyle: 'short', timeStyle: 'short', hourCycle: 'h23' }).format(instant);
    expect(discardAfter, 'given a discardAfter').to.be.instanceOf(Date);
    expect(day(discardAfter!.getTime())).to.equal('2030-11-01, 00:00');
    expect(day(discardAfter!.getTime() - 1)).to.equal('2030-10-31, 23:59');
  });

  it('sends the month reminder on its day when the end date is a month’s last day that the month before lacks', async () => {
    // 31 December: its month reminder is due on 30 November (the last day of a shorter month).
    const id = await portalUser({ firstname: 'Eve', lastname: 'Monthend', email: 'eve.monthend@example.com' }, '2030-12-31');
    expect(reminderDue('2030-11-30', '2030-12-31')).to.equal('month');
    expect((await h.reminders.sweep('2030-11-29')).sent).to.deep.equal([]);
    expect((await h.reminders.sweep('2030-11-30')).sent).to.deep.equal([{ contactId: id, kind: 'month', supportEndDate: '2030-12-31' }]);
    expect(reminders('eve.monthend@example.com')).to.have.length(1);
  });
});

describe('contacts: support reminders migration @db', function () {
  this.timeout(60_000);
  const quietLogger: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };
  let scratch: ScratchDatabase;
  let db: OpenedDatabase;

  before(async () => {
    scratch = await scratchDatabase();
    db = await openDatabase(scratch.url);
  });
  after(async () => {
    await db?.sequelize.close();
    await scratch?.drop();
  });

  it('goes up, keeps each reminder unique, goes down completely and up again', async () => {
    await new PluginMigrator(db.sequelize, db.dialect, `${defaultRootDir}migrations`, quietLogger).up();
    const migration = await import('../../migrations/20261122000600-support-reminders.js');
    const context = { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect };
    await migration.up({ context });
    const insert = () =>
      db.sequelize.query(`INSERT INTO bp_support_reminders (contact_id, support_end_date, kind, sent_at) VALUES (1, '2030-06-30', 'week', :now)`, {
        replacements: { now: new Date() },
      });
    await insert();
    let duplicate: unknown = null;
    try {
      await insert();
    } catch (error) {
      duplicate = error;
    }
    expect(duplicate, 'one reminder of a kind per contact and end date').to.be.instanceOf(Error);
    await migration.down({ context });
    expect(await db.sequelize.getQueryInterface().tableExists('bp_support_reminders')).to.equal(false);
    await migration.down({ context });
    await migration.up({ context });
    await migration.up({ context });
    const [row] = await db.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_support_reminders', { type: QueryTypes.SELECT });
    expect(Number(row!.n)).to.equal(0);
  });
});
