/**
 * `close()` waits for the background work under way — a timer's run, a mail sent after its request
 * answered — before it closes the database, the plugin's (its deactivation waits) and the host's
 * own (its session purge and registry watch). Each test holds one statement of such a run, stops
 * the host meanwhile, lets the statement go, and checks that it and the rest of the run read and
 * wrote the database before it was closed, and that nothing was logged as failed.
 */
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Sequelize } from 'sequelize';
import { PURGE_INTERVAL_MS } from '../../plugin/auth/retention-purge.js';
import { CHALLENGES_PURGE_STATEMENT } from '../../plugin/auth/two-factor.js';
import { SESSION_PURGE_STATEMENTS } from '../../plugin/auth/portal-sessions.js';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { prepareTestHost, startTestHost, type TestHost } from '../support/host.js';
import type { ReferenceHostOptions } from '../../host/reference-host.js';
import { LOCK_AFTER_FAILURES } from '../../plugin/auth/lockout.js';
import { BACKGROUND_STOP_MS } from '../../plugin/lifecycle/background-work.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOST_SESSION_PURGE_MS = 60 * 60_000;
const WATCH_MS = 123_457;

interface Outcome {
  readonly sql: string;
  readonly error: string | null;
}

/** Holds the first statement `matches` picks until `release()`; from then on records what each statement did. */
function holdStatement(sequelize: Sequelize, matches: (sql: string) => boolean) {
  let entered!: () => void;
  let release!: () => void;
  const state = {
    entered: new Promise<void>((resolve) => (entered = resolve)),
    gate: new Promise<void>((resolve) => (release = resolve)),
    release: () => release(),
    outcomes: [] as Outcome[],
  };
  let held = false;
  const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
  (sequelize as unknown as { query: typeof original }).query = async (sql, options) => {
    const text = typeof sql === 'string' ? sql : String((sql as { query?: unknown })?.query ?? '');
    const holding = !held && matches(text);
    if (holding) {
      held = true;
      entered();
      await state.gate;
    }
    if (!held) return original(sql, options);
    try {
      const result = await original(sql, options);
      state.outcomes.push({ sql: text, error: null });
      return result;
    } catch (error) {
      state.outcomes.push({ sql: text, error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  };
  return state;
}

/** Starts a test host, keeping the callbacks of the intervals set meanwhile (by their period) so a test can run one. */
async function startCapturingIntervals(options: Partial<ReferenceHostOptions>): Promise<{ test: TestHost; tick: (ms: number) => void }> {
  // The first start of a kind in a process sets a database up for the later ones to copy: its timers are not this start's.
  await prepareTestHost(options);
  const callbacks = new Map<number, (() => void)[]>();
  const setIntervalBefore = globalThis.setInterval;
  globalThis.setInterval = ((callback: () => void, ms?: number) => {
    callbacks.set(ms ?? 0, [...(callbacks.get(ms ?? 0) ?? []), callback]);
    return setIntervalBefore(callback, ms);
  }) as typeof setInterval;
  let test: TestHost;
  try {
    test = await startTestHost(options);
  } finally {
    globalThis.setInterval = setIntervalBefore;
  }
  const tick = (ms: number) => {
    const found = callbacks.get(ms);
    if (!found || found.length !== 1) throw new Error(`${found?.length ?? 0} intervals of ${ms} ms were set`);
    found[0]!();
  };
  return { test, tick };
}

/** The warnings and errors the host's logger writes from now on. */
function recordFailures(test: TestHost): string[] {
  const lines: string[] = [];
  const logger = test.host.api.logger;
  for (const level of ['warn', 'error'] as const) {
    const write = logger[level].bind(logger);
    logger[level] = (message, fields) => {
      lines.push(`${level}: ${message} ${JSON.stringify(fields ?? {})}`);
      write(message, fields);
    };
  }
  return lines;
}

/** Stops the host while the held statement waits, then lets it go; answers when the host has closed. */
async function closeWhileHeld(test: TestHost, hold: ReturnType<typeof holdStatement>): Promise<void> {
  await hold.entered;
  const closing = test.host.close();
  await pause(100);
  hold.release();
  await closing;
  // Before the fix the run went on after close() had returned: give it the time to fail visibly.
  await pause(200);
}

describe('reference host: close() waits for the background work under way @db', () => {
  let test: TestHost | undefined;
  afterEach(async () => {
    await test?.stop();
    test = undefined;
  });

  it('the plugin’s retention purge, started by its timer, finishes before the database closes', async () => {
    const started = await startCapturingIntervals({});
    test = started.test;
    const failures = recordFailures(test);
    const hold = holdStatement(test.host.api.database.sequelize, (sql) => sql === SESSION_PURGE_STATEMENTS[0]);
    started.tick(PURGE_INTERVAL_MS);
    await closeWhileHeld(test, hold);
    expect(hold.outcomes.filter((o) => o.error !== null), 'statements that failed').to.deep.equal([]);
    expect(hold.outcomes.map((o) => o.sql), 'the purge ran to its last statement').to.include(CHALLENGES_PURGE_STATEMENT);
    expect(failures).to.deep.equal([]);
  });

  it('a password recovery mail still being sent after its request answered is sent before the database closes', async () => {
    test = await startTestHost({ demo: true });
    const failures = recordFailures(test);
    const hold = holdStatement(test.host.api.database.sequelize, (sql) => /INSERT INTO\s+["`]?crm_mail_outbox/i.test(sql));
    const client = new PortalClient(`${test.url}/portal`);
    const { html } = await client.get('/forgot-password');
    const answered = await client.post('/forgot-password', { _csrf: tokenIn(html), email: 'jane.doe@example.com' });
    expect(answered.response.status).to.equal(200);
    await closeWhileHeld(test, hold);
    expect(hold.outcomes.filter((o) => o.error !== null), 'statements that failed').to.deep.equal([]);
    expect(hold.outcomes.length, 'the mail was kept in the outbox').to.be.at.least(1);
    expect(failures).to.deep.equal([]);
  });

  it('the host’s own CRM session purge, started by its timer, finishes before the database closes', async () => {
    const started = await startCapturingIntervals({ pluginManifests: [] });
    test = started.test;
    const failures = recordFailures(test);
    const hold = holdStatement(test.host.api.database.sequelize, (sql) => /DELETE FROM\s+["`]?crm_sessions["`]?\s+WHERE/i.test(sql));
    started.tick(HOST_SESSION_PURGE_MS);
    await closeWhileHeld(test, hold);
    expect(hold.outcomes.filter((o) => o.error !== null), 'statements that failed').to.deep.equal([]);
    expect(hold.outcomes.length, 'the purge ran').to.equal(1);
    expect(failures).to.deep.equal([]);
  });

  it('a registry sync of the host’s watch finishes before the database closes', async () => {
    const started = await startCapturingIntervals({ pluginManifests: [], watchRegistryMs: WATCH_MS });
    test = started.test;
    const failures = recordFailures(test);
    const hold = holdStatement(test.host.api.database.sequelize, (sql) => sql.startsWith('SELECT revision FROM crm_registry_revision'));
    started.tick(WATCH_MS);
    await closeWhileHeld(test, hold);
    expect(hold.outcomes.filter((o) => o.error !== null), 'statements that failed').to.deep.equal([]);
    expect(hold.outcomes.length, 'the sync read the revision').to.equal(1);
    expect(failures).to.deep.equal([]);
  });

  it('gives up on a run of its timers that never ends after shutdownGraceMs, and closes', async () => {
    const started = await startCapturingIntervals({ pluginManifests: [], shutdownGraceMs: 300 });
    test = started.test;
    const hold = holdStatement(test.host.api.database.sequelize, (sql) => /DELETE FROM\s+["`]?crm_sessions["`]?\s+WHERE/i.test(sql));
    started.tick(HOST_SESSION_PURGE_MS);
    await hold.entered;
    const began = Date.now();
    await test.host.close();
    const took = Date.now() - began;
    expect(took).to.be.at.least(250);
    expect(took).to.be.below(3000);
    hold.release();
  });

  it('gives up on the plugin’s background work that never ends after one BACKGROUND_STOP_MS in all, and closes', async function () {
    this.timeout(BACKGROUND_STOP_MS + 30_000);
    // A mail server that stalls after MAIL FROM, for longer than the plugin waits: a lock email, a
    // password recovery mail and a ticket notification hang, each in a contribution of its own.
    let stalledMails = 0;
    const stalled = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 100, onMailFrom: () => void (stalledMails += 1) });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      test = await startTestHost({ demo: true, smtpUrl: `smtp://127.0.0.1:${(stalled.server.address() as AddressInfo).port}?socketTimeout=120000` });
      const api = test.host.api;
      const failures = recordFailures(test);
      const client = new PortalClient(`${test.url}/portal`);
      for (let i = 0; i < LOCK_AFTER_FAILURES; i++) await client.signIn('jane.doe@example.com', 'Wrong-password-9');
      const recovery = new PortalClient(`${test.url}/portal`);
      const { html } = await recovery.get('/forgot-password');
      expect((await recovery.post('/forgot-password', { _csrf: tokenIn(html), email: 'mario.rossi@example.com' })).response.status).to.equal(200);
      const [tom] = (await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: 'tom.baker@example.com' }, limit: 1 })).rows;
      // A ticket as the portal opens it: the contact is the actor, which the notifications listen to.
      await api.database.sequelize.transaction((transaction) =>
        api.records.create(
          'HelpDesk',
          { values: { ticket_title: 'Printer on fire', status: 'Open', contact_id: tom!.id, account_id: tom!.values.account_id ?? null } },
          { transaction, actor: { kind: 'contact', contactId: tom!.id } },
        ),
      );
      for (let waited = 0; stalledMails < 3 && waited < 5_000; waited += 50) await pause(50);
      expect(stalledMails, 'the three mails reached the mail server').to.be.at.least(3);
      const began = Date.now();
      // One bound each would take 3 × BACKGROUND_STOP_MS.
      const closed = await Promise.race([test.host.close().then(() => true), pause(BACKGROUND_STOP_MS + 5_000).then(() => false)]);
      expect(closed, 'close() ended within one BACKGROUND_STOP_MS while the three mails hung').to.equal(true);
      expect(Date.now() - began).to.be.at.least(BACKGROUND_STOP_MS - 500);
      const logged = failures.join('\n');
      expect(logged, logged).to.match(/deactivated while a lock email was still being sent/);
      expect(logged, logged).to.match(/deactivated while a password recovery mail was still being sent/);
      expect(logged, logged).to.match(/deactivated while a ticket notification was still being sent/);
    } finally {
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });
});
