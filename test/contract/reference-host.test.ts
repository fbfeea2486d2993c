/**
 * Runs the host-contract conformance suite against the reference host, on every database (`@db`).
 * No plugin is loaded: the suite checks the host alone.
 */
import { startTestHost } from '../support/host.js';
import { describeHostContract } from './host-contract-suite.js';

describeHostContract('the reference host @db', async () => {
  const test = await startTestHost({ pluginManifests: [] });
  return { api: test.host.api, close: () => test.stop() };
});
