import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { registryFixture, type RegistryFixture } from './registry-fixture.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `host/cli.ts` as `npm run host` does, against the suite's database. */
function cli(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'host/cli.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: url } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr: stderr.replace(/^\(sequelize\) Warning:.*\n>> Check:.*\n/gm, '') });
    });
  });
}

/** Runs `host/cli.ts` from another folder, with the environment given (its default database is `data/` there). */
function cliIn(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    execFile(process.execPath, ['--import', tsx, join(root, 'host/cli.ts'), ...args], { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('host CLI: its help and defaults, as the README gives them', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bp-cli-help-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--help, -h and help print the usage, which names every command and option the README runs', async function () {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const runs = [...readme.matchAll(/npm run host -- ([a-z][a-z-]*)([^\n`#]*)/g)];
    const commands = new Set(runs.map((m) => m[1]!));
    const options = new Set(runs.flatMap((m) => [...m[2]!.matchAll(/--[a-z-]+/g)].map((o) => o[0])));
    expect([...commands]).to.include.members(['register-module', 'add-relation', 'remove-relation', 'modules', 'generate']);
    // After a command too (`generate --help`): the usage, and nothing run, no database made.
    const flags = ['--help', '-h', 'help', 'generate --help', 'add-relation -h'];
    const results = await Promise.all(flags.map((flag) => cliIn(dir, {}, ...flag.split(' '))));
    for (const [index, result] of results.entries()) {
      const flag = flags[index]!;
      expect(result, flag).to.deep.include({ code: 0, stderr: '' });
      const usage = result.stdout;
      for (const command of commands) expect(usage, `${flag}: ${command}`).to.match(new RegExp(`^  ${command} `, 'm'));
      for (const option of options) expect(usage, `${flag}: ${option}`).to.include(option);
    }
    expect(existsSync(join(dir, 'data')), 'a database made by --help').to.equal(false);
  });

  it('an empty DATABASE_URL means the default, sqlite:data/crm.sqlite, as for npm start', async function () {
    const result = await cliIn(dir, { DATABASE_URL: '' }, 'modules');
    expect(result.stderr.replace(/^\(sequelize\) Warning:.*\n>> Check:.*\n/gm, '')).to.equal('');
    expect(result).to.deep.include({ code: 0 });
    expect(existsSync(join(dir, 'data', 'crm.sqlite'))).to.equal(true);
  });

  it('with DATA_DIR and no DATABASE_URL, the database is crm.sqlite in DATA_DIR, as for npm start', async function () {
    const result = await cliIn(dir, { DATABASE_URL: '', DATA_DIR: 'crm-data' }, 'modules');
    expect(result).to.deep.include({ code: 0 });
    expect(existsSync(join(dir, 'crm-data', 'crm.sqlite'))).to.equal(true);
  });
});

describe('host CLI for the module registry @db', function () {
  // Each test runs up to five CLI processes, each starting tsx and the host's code (about 2 s
  // apiece on a quiet 2-core machine, over 6 s with the suite's other workers and browsers beside it).
  this.timeout(90_000);
  let fx: RegistryFixture;
  let dir: string;

  before(async function () {
    fx = await registryFixture();
    dir = mkdtempSync(join(tmpdir(), 'bp-cli-'));
  });
  after(async () => {
    await fx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers a module and relations that a running registry picks up through sync()', async function () {
    const added: string[] = [];
    fx.registry.on('module.added', ({ module }) => void added.push(module.name));
    fx.registry.on('relation.added', ({ relation }) => void added.push(relation.id));
    const file = join(dir, 'gizmos.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'Gizmos',
        label: { en: 'Gizmos', it: 'Aggeggi' },
        singularLabel: { en: 'Gizmo' },
        custom: true,
        labelField: 'title',
        fields: [{ name: 'title', label: { en: 'Title' }, type: 'text', mandatory: true }],
      }),
    );
    const registered = await cli(fx.scratch.url, 'register-module', file);
    expect(registered).to.deep.include({ code: 0 });
    expect(registered.stdout).to.match(/Registered module Gizmos \(table mod_gizmos, 1 fields/);
    expect(await cli(fx.scratch.url, 'add-relation', '--module', 'Gizmos', '--related', 'Gizmos', '--field', 'parent_id')).to.deep.include({ code: 0 });

    expect(await fx.registry.sync()).to.equal(true);
    expect(fx.registry.module('Gizmos')?.fields.map((f) => f.name)).to.deep.equal(['title', 'parent_id']);
    expect(added).to.deep.equal(['Gizmos', 'Gizmos.parent_id']);

    const listed = await cli(fx.scratch.url, 'modules');
    expect(listed.stdout).to.include('Gizmos (custom)');
    expect(listed.stdout).to.include('Gizmos.parent_id  [reference]  Gizmos.parent_id → Gizmos');
    const removed = await cli(fx.scratch.url, 'remove-relation', 'Gizmos.parent_id');
    expect(removed.stdout).to.include('Removed relation Gizmos.parent_id (field Gizmos.parent_id removed).');
    expect(await fx.registry.sync()).to.equal(true);
    expect(fx.registry.field('Gizmos', 'parent_id')).to.equal(undefined);
  });

  it('refuses to give an existing reference field a further target unless --add-target says so, and says what it did', async function () {
    const file = join(dir, 'warranties.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'Guarantees',
        label: { en: 'Guarantees' },
        singularLabel: { en: 'Guarantee' },
        custom: true,
        labelField: 'title',
        fields: [
          { name: 'title', label: { en: 'Title' }, type: 'text', mandatory: true },
          { name: 'contact_id', label: { en: 'Contact' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
        ],
      }),
    );
    if (!fx.registry.module('Contacts')) await seedStandardModules(fx.registry);
    const registered = await cli(fx.scratch.url, 'register-module', file);
    expect(registered, registered.stderr).to.deep.include({ code: 0 });
    await fx.registry.sync();

    const refused = await cli(fx.scratch.url, 'add-relation', '--module', 'Guarantees', '--related', 'Accounts', '--field', 'contact_id');
    expect(refused).to.deep.include({ code: 1, stdout: '' });
    expect(refused.stderr.trim().split('\n'), refused.stderr).to.have.length(1);
    expect(refused.stderr).to.match(/^Field Guarantees\.contact_id already refers to Contacts: /);
    expect(refused.stderr).to.include('--add-target');
    expect(await fx.registry.sync(), 'nothing changed').to.equal(false);
    expect(fx.registry.field('Guarantees', 'contact_id')?.referenceModules).to.deep.equal(['Contacts']);

    // A new field with --add-target is refused too: the flag is for a field that exists.
    const none = await cli(fx.scratch.url, 'add-relation', '--module', 'Guarantees', '--related', 'Accounts', '--field', 'account_id', '--add-target');
    expect(none).to.deep.include({ code: 1, stdout: '' });
    expect(none.stderr).to.match(/^--add-target gives an existing reference field a further target: Guarantees has no field "account_id"/);
    expect(await fx.registry.sync()).to.equal(false);

    const added = await cli(fx.scratch.url, 'add-relation', '--module', 'Guarantees', '--related', 'Accounts', '--field', 'contact_id', '--add-target');
    expect(added, added.stderr).to.deep.include({ code: 0 });
    expect(added.stdout.trim()).to.equal(
      'Added relation Guarantees.contact_id:Accounts: Guarantees.contact_id now refers to Contacts or Accounts, and its relation Guarantees.contact_id is now Guarantees.contact_id:Contacts. ' +
        'A reference to several modules is no path to a customer for the portal.',
    );
    await fx.registry.sync();
    expect(fx.registry.field('Guarantees', 'contact_id')?.referenceModules).to.deep.equal(['Contacts', 'Accounts']);
  });

  it('says, when a reference to several modules loses one, what the field refers to now and which relation id changed', async function () {
    expect(fx.registry.field('Guarantees', 'contact_id')?.referenceModules).to.deep.equal(['Contacts', 'Accounts']);
    const removed = await cli(fx.scratch.url, 'remove-relation', 'Guarantees.contact_id:Accounts');
    expect(removed, removed.stderr).to.deep.include({ code: 0 });
    expect(removed.stdout.trim()).to.equal(
      'Removed relation Guarantees.contact_id:Accounts: Guarantees.contact_id now refers to Contacts only, and its relation Guarantees.contact_id:Contacts is now Guarantees.contact_id.',
    );
    await fx.registry.sync();
    expect(fx.registry.relation('Guarantees.contact_id')?.relatedModule).to.equal('Contacts');
  });

  it('fails with one line and a non-zero exit, without a stack trace', async function () {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'lowercase', fields: [] }));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ not json');
    const runs = [['register-module', bad], ['register-module', broken], ['remove-relation', 'Nope~Nope'], ['add-relation', '--module', 'Gizmos']];
    const results = await Promise.all(runs.map((args) => cli(fx.scratch.url, ...args)));
    for (const [index, result] of results.entries()) {
      const args = runs[index]!;
      expect(result.code, args.join(' ')).to.equal(1);
      expect(result.stdout).to.equal('');
      expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
      expect(result.stderr).not.to.match(/\n\s+at /);
    }
    expect(results[0]!.stderr).to.match(/^Error: Module name "lowercase" is invalid/);
    expect(results[1]!.stderr).to.match(/broken\.json is not valid JSON/);
    expect(results[3]!.stderr).to.match(/^add-relation needs --module and --related/);
  });
});

describe('host CLI: generate refuses bad arguments and a CRM that holds records', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bp-cli-generate-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers each bad argument with one clear line and exit code 1, before any database is made', async function () {
    const url = `sqlite:${join(dir, 'untouched.sqlite')}`;
    const runs: [string, RegExp][] = [
      ['generate --scale 0.01', /^generate needs --seed with a whole number/],
      ['generate --seed 42 --bogus', /^Unknown option '--bogus'/],
      ['generate --seed abc', /^generate needs --seed with a whole number/],
      ['generate --seed 4.2', /^generate needs --seed with a whole number/],
      ['generate --seed -1', /^generate needs --seed with a whole number/],
      ['generate --seed 42 --scale 0', /^--scale must be a number above 0 and at most 10/],
      ['generate --seed 42 --scale -1', /^--scale must be a number above 0 and at most 10/],
      ['generate --seed 42 --scale -0.5', /^--scale must be a number above 0 and at most 10/],
      ['generate --seed 42 --scale abc', /^--scale must be a number above 0 and at most 10/],
      ['generate --seed 42 --scale 11', /^--scale must be a number above 0 and at most 10/],
      ['generate --seed 42 extra', /^Unexpected argument 'extra'/],
    ];
    const results = await Promise.all(runs.map(([args]) => cli(url, ...args.split(' '))));
    for (const [index, result] of results.entries()) {
      const [args, message] = runs[index]!;
      expect(result.code, args).to.equal(1);
      expect(result.stdout, args).to.equal('');
      expect(result.stderr.trim().split('\n'), `${args}: ${result.stderr}`).to.have.length(1);
      expect(result.stderr, args).to.match(message);
    }
    expect(existsSync(join(dir, 'untouched.sqlite')), 'a database made for bad arguments').to.equal(false);
  });

  it('fills an empty CRM once, then refuses it with one line and exit code 1', async function () {
    const url = `sqlite:${join(dir, 'filled.sqlite')}`;
    const first = await cli(url, 'generate', '--seed', '3', '--scale', '0.0001');
    expect(first, first.stderr).to.deep.include({ code: 0 });
    expect(first.stdout).to.match(/^Generated in .* \(seed 3, scale 0\.0001\):\n {2}2 accounts, 10 contacts \(1 portal users\), 50 tickets, 200 comments,$/m);
    const again = await cli(url, 'generate', '--seed', '3', '--scale', '0.0001');
    expect(again).to.deep.include({ code: 1, stdout: '' });
    expect(again.stderr.trim().split('\n')).to.deep.equal(['Error: Generate into an empty CRM: Accounts holds records already']);
    // A scale in another notation than decimals is refused before the CRM is opened (here: would be 1, the full size).
    const hex = await cli(url, 'generate', '--seed', '3', '--scale', '0x1');
    expect(hex).to.deep.include({ code: 1, stdout: '' });
    expect(hex.stderr.trim().split('\n')).to.deep.equal(['--scale must be a number above 0 and at most 10, e.g. 0.01']);
  });
});
