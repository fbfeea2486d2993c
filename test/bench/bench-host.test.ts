/**
 * `bench/bench-host.ts`, the host process the benchmark spawns: it leaves no temporary folder
 * behind, whether the runner stops it (SIGTERM, or SIGINT from a Ctrl-C) or it fails to start.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The bench host's data folders in `tmp` (tsx keeps its cache there too). */
const hostFolders = (tmp: string) => readdirSync(tmp).filter((name) => name.startsWith('bp-bench-host-'));

/** Runs the bench host with its own TMPDIR; `signal`: sent once it listens. */
function runHost(databaseUrl: string, tmp: string, signal: NodeJS.Signals | null): Promise<{ code: number | null; listened: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bench-host.ts'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl, BENCH_PLUGIN: '0', TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let listened = false;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('BENCH_HOST_URL=')) return;
      listened = true;
      expect(hostFolders(tmp), 'the host made its data folder').to.have.length(1);
      if (signal) child.kill(signal);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, listened, stderr });
    });
  });
}

describe('bench host: its temporary data folder', function () {
  this.timeout(150_000);
  let work: string;
  let tmp: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'bp-bench-test-'));
    tmp = mkdtempSync(join(work, 'tmp-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('is removed when the runner stops the host with SIGTERM or SIGINT', async () => {
    const databaseUrl = `sqlite:${join(work, 'crm.sqlite')}`;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const result = await runHost(databaseUrl, tmp, signal);
      expect(result.listened, `${signal}: ${result.stderr}`).to.equal(true);
      expect(result.code, signal).to.equal(0);
      expect(hostFolders(tmp), signal).to.deep.equal([]);
    }
  });

  it('is removed when the host fails to start', async () => {
    // A database server nobody listens on.
    const result = await runHost('postgres://postgres@127.0.0.1:1/none', tmp, null);
    expect(result.listened).to.equal(false);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^bench host: /);
    expect(hostFolders(tmp)).to.deep.equal([]);
  });
});
