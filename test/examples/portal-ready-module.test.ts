/**
 * `examples/portal-ready-module.ts` as the README has a host developer run it, against a running
 * demo host: the module appears in the running host (no restart), Jane gets her two plans, a second
 * run changes nothing; run against a database the host has not started it says so in one sentence.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestHost, type TestHost } from '../support/host.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function runExample(databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, DATABASE_URL: databaseUrl };
    execFile(process.execPath, ['--import', 'tsx', 'examples/portal-ready-module.ts'], { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function eventually(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('examples/portal-ready-module.ts', function () {
  this.timeout(120_000);
  let t: TestHost;
  let dir: string;

  before(async () => {
    t = await startTestHost({ demo: true, watchRegistryMs: 200 });
    dir = mkdtempSync(join(tmpdir(), 'bp-example-'));
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers MaintenancePlans in the running host with a relation to Contacts and gives Jane two plans, once', async () => {
    const first = await runExample(t.host.options.databaseUrl);
    expect(first.stderr).to.equal('');
    expect(first.code).to.equal(0);
    const registry = t.host.api.modules;
    expect(await eventually(() => registry.relations('MaintenancePlans').some((r) => r.relatedModule === 'Contacts'), 5_000)).to.equal(true);
    expect(await t.host.api.records.count('MaintenancePlans')).to.equal(2);
    expect((await runExample(t.host.options.databaseUrl)).code).to.equal(0);
    expect(await t.host.api.records.count('MaintenancePlans')).to.equal(2);
  });

  it('on a database the host has not started says so in one sentence, without a stack trace', async () => {
    const run = await runExample(`sqlite:${join(dir, 'empty.sqlite')}`);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^sqlite:.*empty\.sqlite holds no reference CRM: start the host on it first \(npm start, with the same DATABASE_URL\)\.\n$/);
  });
});
