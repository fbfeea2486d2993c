import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { HostRegional } from '../../plugin/host-contract/index.js';
import type { MessageKey } from '../../plugin/i18n/message-keys.js';
import { flattenLocale, LocaleTranslator, parseAcceptLanguage } from '../../plugin/i18n/translator.js';
import { defaultRootDir, pluginFiles, readManifest } from '../../plugin/lifecycle/plugin-files.js';
import type { PluginFiles } from '../../plugin/lifecycle/plugin-files.js';

function regional(defaultLanguage: string): HostRegional {
  return { languages: () => [], defaultLanguage: () => defaultLanguage, timeZone: () => 'UTC' };
}

describe('translator', () => {
  let dir: string;
  let files: PluginFiles;
  // Keys of this scratch catalogue are not the plugin's: cast them.
  const k = (key: string) => key as MessageKey;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bp-locales-'));
    writeFileSync(
      join(dir, 'en.json'),
      JSON.stringify({
        menu: {
          a: 'Hello {name}',
          onlyEnglish: 'English only',
          count: '{n} of {n}, {missing}',
          files: { one: '{count} file in {folder}', other: '{count} files in {folder}' },
          pluralOnlyEnglish: { one: 'one thing', other: '{count} things' },
          // Not plural forms: a group whose keys are not all plural categories.
          kinds: { date: 'A date', other: 'Something else' },
        },
      }),
    );
    writeFileSync(
      join(dir, 'it.json'),
      JSON.stringify({
        menu: {
          a: 'Ciao {name}',
          count: '{n} di {n}, {missing}',
          files: { one: '{count} file in {folder}', many: '{count} di file in {folder}', other: '{count} file in {folder}' },
          contacts: { one: '{count} contatto spostato', other: '{count} contatti spostati' },
        },
      }),
    );
    writeFileSync(join(dir, 'README.md'), 'not a locale');
    files = { rootDir: dir, localesDir: dir, migrationsDir: dir, templatesDir: dir };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('translates with placeholders and leaves unknown placeholders as they are', () => {
    const t = new LocaleTranslator(files, regional('en'));
    expect(t.t('it', k('menu.a'), { name: '<b>Mario</b>' })).to.equal('Ciao <b>Mario</b>');
    expect(t.t('en', k('menu.count'), { n: 3 })).to.equal('3 of 3, {missing}');
  });

  it('falls back to English, then to the key', () => {
    const t = new LocaleTranslator(files, regional('en'));
    expect(t.t('it', k('menu.onlyEnglish'))).to.equal('English only');
    expect(t.t('de', k('menu.a'), { name: 'Hans' })).to.equal('Hello Hans');
    expect(t.t('it', k('menu.nowhere'))).to.equal('menu.nowhere');
    expect(t.has('menu.a')).to.equal(true);
    expect(t.has('menu.nowhere')).to.equal(false);
  });

  it('gives every language of a key', () => {
    const t = new LocaleTranslator(files, regional('en'));
    expect(t.languages()).to.deep.equal(['en', 'it']);
    expect(t.localized(k('menu.onlyEnglish'))).to.deep.equal({ en: 'English only', it: 'English only' });
    expect(t.localized(k('menu.a'), { name: 'X' })).to.deep.equal({ en: 'Hello X', it: 'Ciao X' });
  });

  it('picks the plural form by count with each language’s rules, "other" when count is missing or not a number', () => {
    const t = new LocaleTranslator(files, regional('en'));
    expect(t.t('en', k('menu.files'), { count: 1, folder: 'A' })).to.equal('1 file in A');
    expect(t.t('en', k('menu.files'), { count: 0, folder: 'A' })).to.equal('0 files in A');
    expect(t.t('en', k('menu.files'), { count: 2, folder: 'A' })).to.equal('2 files in A');
    expect(t.t('en', k('menu.files'), { count: 1.5, folder: 'A' })).to.equal('1.5 files in A');
    expect(t.t('en', k('menu.files'), { count: '1', folder: 'A' })).to.equal('1 file in A');
    expect(t.t('en', k('menu.files'), { folder: 'A' })).to.equal('{count} files in A');
    expect(t.t('en', k('menu.files'))).to.equal('{count} files in {folder}');
    expect(t.t('en', k('menu.files'), { count: 'many', folder: 'A' })).to.equal('many files in A');
    // Italian: "many" for a million ("1 milione di file") where the ICU data has it, else "other".
    expect(t.t('it', k('menu.files'), { count: 1_000_000, folder: 'A' })).to.be.oneOf(['1000000 di file in A', '1000000 file in A']);
    // An English message in an Italian page follows English rules; Italian "one" is 1 only.
    expect(t.t('it', k('menu.pluralOnlyEnglish'), { count: 1 })).to.equal('one thing');
    expect(t.t('it', k('menu.pluralOnlyEnglish'), { count: 3 })).to.equal('3 things');
    expect(t.localized(k('menu.files'), { count: 1, folder: 'B' })).to.deep.equal({ en: '1 file in B', it: '1 file in B' });
    expect(t.t('en', k('menu.kinds.date'))).to.equal('A date');
    expect(t.t('en', k('menu.kinds.other'))).to.equal('Something else');
    expect(t.has('menu.files')).to.equal(true);
    expect(t.has('menu.files.one')).to.equal(false);
  });

  it('picks one and other in the plugin’s English and Italian messages, e.g. contacts moved when a profile is deleted', () => {
    const t = new LocaleTranslator(pluginFiles(defaultRootDir, readManifest(defaultRootDir)), regional('en'));
    // A compile-time check too: plural messages are keys of their own (not `.one` / `.other`).
    const deleted: MessageKey = 'profiles.deleted';
    const flagged: MessageKey = 'profiles.notices.flagged';
    expect(t.t('en', deleted, { name: 'North', count: 1, target: 'Default' })).to.equal('The profile North was deleted; 1 contact moved to Default.');
    expect(t.t('en', deleted, { name: 'North', count: 3, target: 'Default' })).to.equal('The profile North was deleted; 3 contacts moved to Default.');
    expect(t.t('en', deleted, { name: 'North', count: 0, target: 'Default' })).to.equal('The profile North was deleted; 0 contacts moved to Default.');
    expect(t.t('it', deleted, { name: 'Nord', count: 1, target: 'Default' })).to.equal('Il profilo Nord è stato eliminato; 1 contatto è passato a Default.');
    expect(t.t('it', deleted, { name: 'Nord', count: 2, target: 'Default' })).to.equal('Il profilo Nord è stato eliminato; 2 contatti sono passati a Default.');
    expect(t.t('it', deleted, { name: 'Nord', count: 0, target: 'Default' })).to.equal('Il profilo Nord è stato eliminato; 0 contatti sono passati a Default.');
    expect(t.t('en', flagged, { count: 1 })).to.match(/^1 button or conditional rule points at /);
    expect(t.t('en', flagged, { count: 4 })).to.match(/^4 buttons or conditional rules point at /);
    expect(t.t('it', flagged, { count: 1 })).to.match(/^1 pulsante o regola condizionale punta a /);
    expect(t.t('it', flagged, { count: 4 })).to.match(/^4 pulsanti o regole condizionali puntano a /);
  });

  it('reads plural forms as one message and refuses other non-text leaves', () => {
    const flat = flattenLocale({ a: { n: { one: 'x', other: 'y' }, g: { one: 'x', two: 'z' } } }, 'test.json');
    expect(flat.get('a.n')).to.deep.equal({ one: 'x', other: 'y' });
    // Without "other" it is a group of messages.
    expect(flat.get('a.g.one')).to.equal('x');
    expect(() => flattenLocale({ a: { n: { one: 'x', other: 3 } } }, 'bad.json')).to.throw(/bad\.json/);
  });

  it('picks the explicit choice over the browser, the browser over the default', () => {
    const t = new LocaleTranslator(files, regional('en'));
    expect(t.pickLanguage('it-IT,it;q=0.9,en;q=0.8', 'en')).to.equal('en');
    expect(t.pickLanguage('en;q=0.5, it-CH;q=0.9', undefined)).to.equal('it');
    expect(t.pickLanguage('de-DE, fr;q=0.9, it;q=0.1', null)).to.equal('it');
    expect(t.pickLanguage('de-DE, fr;q=0.9', 'xx')).to.equal('en');
    expect(t.pickLanguage('it;q=0, en;q=0.1', undefined)).to.equal('en');
    expect(t.pickLanguage('garbage;;;, *', '../../etc')).to.equal('en');
    expect(t.pickLanguage(undefined, undefined)).to.equal('en');
  });

  it('defaults to the CRM language when the plugin has it, else English', () => {
    expect(new LocaleTranslator(files, regional('it')).pickLanguage('de', undefined)).to.equal('it');
    expect(new LocaleTranslator(files, regional('fr')).pickLanguage('de', undefined)).to.equal('en');
    expect(new LocaleTranslator(files, regional('it')).supported('IT-it')).to.equal('it');
    expect(new LocaleTranslator(files, regional('it')).supported(null)).to.equal('it');
  });

  it('parses Accept-Language by quality, keeping the order of equals', () => {
    expect(parseAcceptLanguage('fr;q=0.5, it , en-GB;q=0.8, de;q=0.8')).to.deep.equal(['it', 'en-gb', 'de', 'fr']);
    expect(parseAcceptLanguage('x;q=abc, <script>, it')).to.deep.equal(['it']);
  });
});
