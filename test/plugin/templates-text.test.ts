/**
 * Every word a template shows comes from `locales/` (`{{t "…"}}`) or from data: a template's own
 * text, and its own words in attributes people read or hear (title, aria-label, placeholder, alt, an
 * input button's value), would be the same English in every language.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';

const templatesDir = resolve(defaultRootDir, 'templates');
/**
 * Attributes people read or hear: the browser's own (an `<optgroup>`'s or `<option>`'s `label` among
 * them), and those the portal's CSS and scripts show: `data-label` (a table cell's column name on a
 * phone, `content: attr(data-label)`), `data-label-*`, `data-chosen-label` (the file chosen for an
 * upload) and `data-read` / `data-unreadable` (what the profile import says of the file it read).
 */
const READ_ATTRIBUTES =
  /\s(title|aria-label|aria-description|aria-roledescription|aria-valuetext|aria-placeholder|placeholder|alt|label|data-label|data-label-[a-z-]+|data-chosen-label|data-read|data-unreadable)\s*=\s*"([^"]*)"/gi;
const WORD = /\p{L}{2,}/u;

/** The template without Handlebars comments and expressions (each left as one space), scripts and styles. */
function withoutExpressions(source: string): string {
  return source
    .replace(/\{\{!--[\s\S]*?--\}\}|\{\{![\s\S]*?\}\}/g, ' ')
    .replace(/\{\{\{?[\s\S]*?\}?\}\}/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ');
}

/** What a reader meets in a template that does not come from an expression: text and read attributes. */
export function ownWords(source: string, plainText: boolean): string[] {
  const stripped = withoutExpressions(source);
  if (plainText) return stripped.split('\n').map((line) => line.trim()).filter((line) => WORD.test(line));
  const found: string[] = [];
  for (const tag of stripped.match(/<[a-z][^>]*>/gi) ?? []) {
    for (const [, name, value] of tag.matchAll(READ_ATTRIBUTES)) if (WORD.test(value!)) found.push(`${name}="${value}"`);
    // An input button shows its value (a <button>'s value is only sent).
    if (/^<input\b/i.test(tag) && /\stype\s*=\s*"(submit|button|reset)"/i.test(tag)) {
      const value = /\svalue\s*=\s*"([^"]*)"/i.exec(tag)?.[1] ?? '';
      if (WORD.test(value)) found.push(`value="${value}"`);
    }
  }
  const text = stripped.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<[^>]*>/g, '\n').replace(/&[a-z]+;|&#x?[0-9a-f]+;/gi, ' ');
  for (const line of text.split('\n')) if (WORD.test(line)) found.push(line.trim());
  return found;
}

describe('templates: every word from the locales', () => {
  it('finds a template’s own words (the check can fail)', () => {
    expect(ownWords('<p>{{t "a.b"}}</p><button type="submit" title="Close">{{t "c"}}</button>', false)).to.deep.equal(['title="Close"']);
    expect(ownWords('<p>{{t "a.b"}} more</p><input type="submit" value="Send">', false)).to.deep.equal(['value="Send"', 'more']);
    expect(ownWords('<img alt="{{t "x"}}" src="{{src}}"><span aria-label="{{label}}">·</span>', false)).to.deep.equal([]);
    expect(ownWords('{{t "mail.hello" name=name}}\nKind regards\n', true)).to.deep.equal(['Kind regards']);
    expect(ownWords('<td data-label="Status">{{status}}</td><optgroup label="Modules"></optgroup>', false)).to.deep.equal(['data-label="Status"', 'label="Modules"']);
    expect(ownWords('<input type="file" data-chosen-label="Chosen: {name}"><p data-read="File read" data-unreadable="{{t "x"}}"></p>', false)).to.deep.equal(['data-chosen-label="Chosen: {name}"', 'data-read="File read"']);
  });

  for (const folder of readdirSync(templatesDir)) {
    for (const file of readdirSync(join(templatesDir, folder)).filter((f) => f.endsWith('.hbs'))) {
      it(`${folder}/${file} has no text of its own`, () => {
        const source = readFileSync(join(templatesDir, folder, file), 'utf8');
        expect(ownWords(source, file.endsWith('-text.hbs'))).to.deep.equal([]);
      });
    }
  }
});
