import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { flattenLocale } from '../../plugin/i18n/translator.js';

const localesDir = resolve(defaultRootDir, 'locales');
const read = (file: string) => flattenLocale(JSON.parse(readFileSync(join(localesDir, file), 'utf8')), file);
const placeholders = (text: string) => [...text.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).sort();

describe('locales', () => {
  const english = read('en.json');
  const others = readdirSync(localesDir).filter((f) => /^[a-z]{2}\.json$/.test(f) && f !== 'en.json');

  it('include Italian beside English', () => {
    expect(others).to.include('it.json');
  });

  it('prefix every key by capability', () => {
    for (const key of english.keys()) expect(key, key).to.match(/^(menu|settings|profiles|privileges|classic|eligibility|contacts|loginCheck|portal|records|tickets|api|errors|auth|mail)\.[A-Za-z0-9.]+$/);
  });

  for (const file of readdirSync(localesDir).filter((f) => /^[a-z]{2}\.json$/.test(f) && f !== 'en.json')) {
    describe(file, () => {
      const locale = read(file);

      it('has exactly the English keys', () => {
        expect([...locale.keys()].filter((k) => !english.has(k)), 'keys English lacks').to.deep.equal([]);
        expect([...english.keys()].filter((k) => !locale.has(k)), 'English keys it lacks').to.deep.equal([]);
      });

      it('has no empty text and the same placeholders as English', () => {
        for (const [key, text] of locale) {
          expect(text.trim(), key).not.to.equal('');
          expect(placeholders(text), key).to.deep.equal(placeholders(english.get(key) ?? ''));
        }
      });
    });
  }
});
