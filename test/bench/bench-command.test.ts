/**
 * `npm run bench` (bench/run.ts) as the README runs it: its --help names every option the README
 * uses, and a wrong argument is refused in one sentence before any database is made.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run bench: its help and argument errors', function () {
  this.timeout(90_000);

  it('--help prints the usage with every option the README runs, and runs nothing', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const options = new Set([...readme.matchAll(/npm run bench -- ([^\n`#]*)/g)].flatMap((m) => [...m[1]!.matchAll(/--[a-z-]+/g)].map((o) => o[0])));
    expect([...options]).to.include.members(['--db', '--requests', '--duration']);
    const [long, short] = await Promise.all([bench('--help'), bench('-h')]);
    for (const result of [long, short]) {
      expect(result).to.deep.include({ code: 0, stderr: '' });
      expect(result.stdout).to.match(/^Usage: npm run bench -- /);
      for (const option of options) expect(result.stdout, option).to.include(option);
      for (const option of ['--scale', '--connections', '--keep', '--database-url']) expect(result.stdout, option).to.include(option);
    }
  });

  it('refuses a wrong argument in one sentence, with exit code 2 and no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['--db', 'oracle'], /^--db must be sqlite, postgres or mariadb\n/],
      [['--duration', 'soon'], /^--duration must be a whole number of seconds, at least 1/],
      [['--requests', '10'], /^--requests must be two growing counts/],
      [['--fast'], /^Unknown option '--fast'/],
      [['--db', 'postgres', '--database-url', 'sqlite:/nowhere/crm.sqlite'], /^--db postgres does not match --database-url, an sqlite database \(leave --db out with --database-url\)\n/],
      [['--db', 'sqlite', '--database-url', 'mysql://root@127.0.0.1:3306/bp_kept'], /^--db sqlite does not match --database-url, a mariadb database /],
      [['--database-url', 'sqlite:/nowhere/crm.sqlite', '--scale', '1'], /^--scale does not apply with --database-url \(the benchmark uses the data in it\)\n/],
      [['--database-url', 'oracle://x/y'], /^--database-url must start with sqlite:, postgres:\/\/ or mariadb:\/\//],
    ];
    const results = await Promise.all(cases.map(([args]) => bench(...args)));
    for (const [index, result] of results.entries()) {
      const [args, message] = cases[index]!;
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.stdout, args.join(' ')).to.equal('');
      expect(result.stderr, args.join(' ')).to.match(message);
      expect(result.stderr, args.join(' ')).to.include('npm run bench -- --help');
      expect(result.stderr, args.join(' ')).not.to.match(/\n\s+at /);
    }
  });

  describe('--database-url: a database generated before', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'bp-bench-test-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    // The smallest run there is, should the command go ahead anyway.
    const tiny = ['--duration', '1', '--connections', '1', '--requests', '2,3'];

    it('refuses an SQLite file that does not exist, naming it and the command that makes one, and creates nothing', async () => {
      const file = join(dir, 'kept', 'crm.sqlite');
      const result = await bench('--database-url', `sqlite:${file}`, ...tiny);
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.include(`no SQLite file at ${file}`);
      expect(result.stderr).to.include('npm run bench -- --db sqlite --keep');
      expect(result.stderr).not.to.match(/\n\s+at /);
      expect(existsSync(file), 'the file').to.equal(false);
      expect(readdirSync(dir), 'nothing made').to.deep.equal([]);
    });

    it('refuses a database without generated data instead of filling it', async () => {
      const file = join(dir, 'empty.sqlite');
      writeFileSync(file, '');
      const result = await bench('--database-url', `sqlite:${file}`, ...tiny);
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.include(`${file} holds no generated data`);
      expect(result.stderr).to.include('npm run bench -- --db sqlite --keep');
      expect(result.stderr).not.to.match(/Generated \d+ tickets/);
    });
  });
});
