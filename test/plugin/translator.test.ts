import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { HostRegional } from '../../plugin/host-contract/index.js';
import type { MessageKey } from '../../plugin/i18n/message-keys.js';
import { LocaleTranslator, parseAcceptLanguage } from '../../plugin/i18n/translator.js';
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
    writeFileSync(join(dir, 'en.json'), JSON.stringify({ menu: { a: 'Hello {name}', onlyEnglish: 'English only', count: '{n} of {n}, {missing}' } }));
    writeFileSync(join(dir, 'it.json'), JSON.stringify({ menu: { a: 'Ciao {name}', count: '{n} di {n}, {missing}' } }));
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
