/**
 * The reference host's `close()` as a shutdown (SIGTERM) runs it: it stops accepting connections,
 * lets the requests in flight finish — also one whose client has gone, which still reads and
 * writes the database — up to a bound, and only then stops the plugins and closes the database.
 */
import { expect } from 'chai';
import express from 'express';
import { RAW_SELECT } from '../../host/records/record-store.js';
import { startTestHost, type TestHost } from '../support/host.js';

function resolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A route that waits for the test's word, then reads the database and answers what it read. */
function slowRoute(test: TestHost) {
  const state = { entered: resolvers(), gate: resolvers(), failure: null as unknown, answered: false };
  const router = express.Router();
  router.get('/', async (_req, res) => {
    state.entered.resolve();
    await state.gate.promise;
    try {
      const [row] = await test.host.api.database.sequelize.query<{ one: unknown }>('SELECT 1 AS one', RAW_SELECT);
      res.json({ one: Number(row?.one) });
      state.answered = true;
    } catch (error) {
      state.failure = error;
      throw error;
    }
  });
  test.host.api.http.mount('/slow', router);
  return state;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reference host: close() lets requests in flight finish @db', () => {
  let test: TestHost | undefined;
  afterEach(async () => {
    await test?.stop();
    test = undefined;
  });

  it('stops accepting, answers a slow request in flight, then closes the database', async () => {
    test = await startTestHost({ pluginManifests: [] });
    const slow = slowRoute(test);
    const answer = fetch(`${test.url}/slow`).then(async (response) => ({ status: response.status, body: await response.json(), connection: response.headers.get('connection') }));
    await slow.entered.promise;

    let closed = false;
    const closing = test.host.close().then(() => (closed = true));
    await pause(100);
    // No new connection is accepted once the host is stopping.
    const refused = await fetch(`${test.url}/healthz`).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused, 'a new connection while stopping').to.be.an('error');
    expect(closed, 'close() waits for the request').to.equal(false);

    slow.gate.resolve();
    const { status, body, connection } = await answer;
    expect(slow.failure, 'the request read the database').to.equal(null);
    expect(status).to.equal(200);
    expect(body).to.deep.equal({ one: 1 });
    expect(connection, 'the connection is not kept for another request').to.equal('close');
    await closing;
  });

  it('waits for a request whose client has gone before it closes the database', async () => {
    test = await startTestHost({ pluginManifests: [] });
    const slow = slowRoute(test);
    const abort = new AbortController();
    const gone = fetch(`${test.url}/slow`, { signal: abort.signal }).catch(() => 'aborted');
    await slow.entered.promise;
    abort.abort();
    expect(await gone).to.equal('aborted');
    await pause(50);

    let closed = false;
    const closing = test.host.close().then(() => (closed = true));
    await pause(200);
    expect(closed, 'close() waits for the handler still working').to.equal(false);
    slow.gate.resolve();
    await closing;
    // The login storm's symptom: "ConnectionManager.getConnection was called after the connection manager was closed".
    expect(slow.failure, 'the handler read the database before it was closed').to.equal(null);
    expect(slow.answered).to.equal(true);
  });

  it('gives up on a request that never ends after shutdownGraceMs, and closes', async () => {
    test = await startTestHost({ pluginManifests: [], shutdownGraceMs: 300 });
    const slow = slowRoute(test);
    const answer = fetch(`${test.url}/slow`).then(
      (response) => response.status,
      () => 'connection closed',
    );
    await slow.entered.promise;
    const began = Date.now();
    await test.host.close();
    const took = Date.now() - began;
    expect(took).to.be.at.least(250);
    expect(took).to.be.below(3000);
    expect(await answer).to.equal('connection closed');
    slow.gate.resolve();
  });
});
