/**
 * `contains` and `startsWith` (a list's general and column searches) mean the same on SQLite,
 * PostgreSQL and MariaDB: a customer's `%`, `_`, `\`, quotes, brackets and `*` are the characters
 * themselves, never wildcards; every letter's case is ignored (`CITTÀ` finds `città`, not only
 * A–Z); accents, other letters and emoji count (`perche` is not `perché`, `😀` is not `🎉`), as the
 * conditional rules read `contains` (rule-evaluation.ts).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlRecordStore } from '../../host/records/record-store.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { registryFixture, type RegistryFixture } from '../registry/registry-fixture.js';

describe('record store: contains and startsWith read a search the same on every database @db', function () {
  let fx: RegistryFixture;
  let store: SqlRecordStore;
  let filesDir: string;

  const NAMES = [
    'Rossi', '100% sure', '50_50', 'C:\\temp', "O'Brien", 'say "hi"', '[draft]', 'a*b?c', 'x!y', 'x^y-z',
    'perché', 'perche', 'Müller', 'MULLER', 'È vero', 'è falso', 'İZMİR', 'ıspanak', 'Straße', 'STRASSE',
    '🎉 party', '😀 smile', 'CITTÀ', 'Ωmega', 'Жук', 'plain',
  ];

  before(async () => {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
    filesDir = mkdtempSync(join(tmpdir(), 'bp-files-'));
    store = new SqlRecordStore(fx.db, fx.registry, filesDir);
    await fx.registry.registerModule({
      name: 'Gadgets',
      label: { en: 'Gadgets' },
      singularLabel: { en: 'Gadget' },
      custom: true,
      labelField: 'name',
      fields: [{ name: 'name', label: { en: 'Name' }, type: 'text', mandatory: true }],
    });
    for (const name of NAMES) await store.create('Gadgets', { values: { name } });
    await fx.registry.registerModule({
      name: 'Tagged',
      label: { en: 'Tagged' },
      singularLabel: { en: 'Tagged' },
      custom: true,
      labelField: 'name',
      fields: [
        { name: 'name', label: { en: 'Name' }, type: 'text', mandatory: true },
        { name: 'tags', label: { en: 'Tags' }, type: 'multipicklist', mandatory: false, picklistValues: ['Red', 'Dark blue', 'Ça "va"', 'C:\\x', 'x, y'] },
      ],
    });
    for (const [name, tags] of [['two', ['Red', 'Dark blue']], ['red', ['Red']], ['quoted', ['Ça "va"']], ['path', ['C:\\x']], ['comma', ['x, y']], ['none', []]] as const) {
      await store.create('Tagged', { values: { name, tags: [...tags] } });
    }
  });
  after(async () => {
    await fx?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  async function found(op: 'contains' | 'startsWith', value: string): Promise<string[]> {
    const page = await store.query('Gadgets', { where: { field: 'name', op, value }, fields: ['name'], limit: 100 });
    return page.rows.map((r) => String(r.values.name)).sort();
  }

  it('takes wildcard, escape and quote characters literally, alone or in a word', async () => {
    expect(await found('contains', '%')).to.deep.equal(['100% sure']);
    expect(await found('contains', '_')).to.deep.equal(['50_50']);
    expect(await found('contains', '\\')).to.deep.equal(['C:\\temp']);
    expect(await found('contains', "'")).to.deep.equal(["O'Brien"]);
    expect(await found('contains', '"')).to.deep.equal(['say "hi"']);
    expect(await found('contains', '[')).to.deep.equal(['[draft]']);
    expect(await found('contains', ']')).to.deep.equal(['[draft]']);
    expect(await found('contains', '[d')).to.deep.equal(['[draft]']);
    expect(await found('contains', '[a-z]')).to.deep.equal([]);
    expect(await found('contains', '*')).to.deep.equal(['a*b?c']);
    expect(await found('contains', '?')).to.deep.equal(['a*b?c']);
    expect(await found('contains', 'a*b')).to.deep.equal(['a*b?c']);
    expect(await found('contains', '!')).to.deep.equal(['x!y']);
    expect(await found('contains', '^y-')).to.deep.equal(['x^y-z']);
    expect(await found('contains', '.')).to.deep.equal([]);
    expect(await found('contains', '%_\\')).to.deep.equal([]);
    expect(await found('startsWith', '%')).to.deep.equal([]);
    expect(await found('startsWith', '_')).to.deep.equal([]);
    expect(await found('startsWith', '[')).to.deep.equal(['[draft]']);
    expect(await found('startsWith', 'C:\\')).to.deep.equal(['C:\\temp']);
  });

  it('ignores the case of every letter, not only A–Z', async () => {
    expect(await found('contains', 'ROSSI')).to.deep.equal(['Rossi']);
    expect(await found('contains', 'rossi')).to.deep.equal(['Rossi']);
    expect(await found('contains', 'città')).to.deep.equal(['CITTÀ']);
    expect(await found('startsWith', 'è')).to.deep.equal(['È vero', 'è falso']);
    expect(await found('startsWith', 'È')).to.deep.equal(['È vero', 'è falso']);
    expect(await found('contains', 'müller')).to.deep.equal(['Müller']);
    expect(await found('contains', 'ωMEGA')).to.deep.equal(['Ωmega']);
    expect(await found('contains', 'жук')).to.deep.equal(['Жук']);
  });

  it('counts accents, other letters and emoji: no folding on any database', async () => {
    expect(await found('contains', 'perche')).to.deep.equal(['perche']);
    expect(await found('contains', 'PERCHÉ')).to.deep.equal(['perché']);
    expect(await found('contains', 'MULLER')).to.deep.equal(['MULLER']);
    expect(await found('contains', 'citta')).to.deep.equal([]);
    expect(await found('contains', 'strase')).to.deep.equal([]);
    expect(await found('contains', 'straße')).to.deep.equal(['Straße']);
    expect(await found('contains', '😀')).to.deep.equal(['😀 smile']);
    expect(await found('contains', '🎉')).to.deep.equal(['🎉 party']);
  });

  it('finds a multipicklist by the text of one of its values, never by the JSON that holds them', async () => {
    const tagged = async (value: string) =>
      (await store.query('Tagged', { where: { field: 'tags', op: 'contains', value }, fields: ['name'], limit: 100 })).rows.map((r) => String(r.values.name)).sort();
    expect(await tagged('RED')).to.deep.equal(['red', 'two']);
    expect(await tagged('dark BLUE')).to.deep.equal(['two']);
    expect(await tagged('ça "VA"')).to.deep.equal(['quoted']);
    expect(await tagged('"')).to.deep.equal(['quoted']);
    expect(await tagged('\\')).to.deep.equal(['path']);
    expect(await tagged('x, y')).to.deep.equal(['comma']);
    for (const json of ['[', ']', '[]', '["', '"]', '","', 'Red","Dark', 'd","', '\\"']) expect(await tagged(json), json).to.deep.equal([]);
  });

  it('finds Turkish capitals by their small letters where one letter answers for the other', async () => {
    expect(await found('contains', 'izmir')).to.deep.equal(['İZMİR']);
    expect(await found('contains', 'ISPANAK')).to.deep.equal([]);
    expect(await found('contains', 'ıspanak')).to.deep.equal(['ıspanak']);
  });
});
