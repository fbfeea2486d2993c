/**
 * Renders the plugin's Handlebars templates (`templates/<area>/<name>.hbs`). Output is always
 * escaped: templates use `{{ }}` only, and the helpers return plain strings that Handlebars
 * escapes in turn. `language` in the data drives the `t` and `dateTime` helpers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { inject, injectable } from 'inversify';
import { HostRegional, type LanguageCode } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginFiles } from '../lifecycle/plugin-files.js';

export const PageRenderer = Symbol.for('business-portal.PageRenderer');
export interface PageRenderer {
  /** `template` is a path under the templates folder without `.hbs`, e.g. `admin/settings-home`. */
  render(template: string, language: LanguageCode, data: Readonly<Record<string, unknown>>): string;
}

const templateName = /^[a-z0-9-]+(\/[a-z0-9-]+)*$/;

@injectable()
export class HandlebarsPageRenderer implements PageRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();

  constructor(
    @inject(PluginFiles) private readonly files: PluginFiles,
    @inject(Translator) translator: Translator,
    @inject(HostRegional) regional: HostRegional,
  ) {
    const languageOf = (options: Handlebars.HelperOptions): LanguageCode => {
      const root = options.data?.root as { language?: unknown } | undefined;
      return typeof root?.language === 'string' ? root.language : translator.defaultLanguage();
    };
    // {{t "profiles.heading" name=value}}
    this.handlebars.registerHelper('t', (key: unknown, options: Handlebars.HelperOptions) => {
      if (typeof key !== 'string' || !translator.has(key)) throw new Error(`Template uses an unknown translation key: ${String(key)}`);
      return translator.t(languageOf(options), key as MessageKey, (options.hash ?? {}) as MessageParams);
    });
    // {{dateTime value}}: an ISO date-time or Date, in the CRM's time zone; empty when missing.
    // One formatter per language and time zone, kept: making one costs about half a millisecond, using
    // one a few microseconds. The login check lists thousands of dates; made anew for each, they held
    // the event loop (every request of the host) for seconds.
    const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
    this.handlebars.registerHelper('dateTime', (value: unknown, options: Handlebars.HelperOptions) => {
      const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
      if (!date || Number.isNaN(date.getTime())) return '';
      const language = languageOf(options);
      const timeZone = regional.timeZone();
      const key = `${language}|${timeZone}`;
      let format = dateTimeFormats.get(key);
      if (!format) {
        format = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short', timeZone });
        if (dateTimeFormats.size < 100) dateTimeFormats.set(key, format);
      }
      return format.format(date);
    });
  }

  render(template: string, language: LanguageCode, data: Readonly<Record<string, unknown>>): string {
    return this.template(template)({ ...data, language });
  }

  private template(name: string): Handlebars.TemplateDelegate {
    if (!templateName.test(name)) throw new Error(`Invalid template name: ${name}`);
    let compiled = this.compiled.get(name);
    if (!compiled) {
      const source = readFileSync(join(this.files.templatesDir, `${name}.hbs`), 'utf8');
      compiled = this.handlebars.compile(source, { strict: false, noEscape: false });
      this.compiled.set(name, compiled);
      // A partial is another template, named by its path (`{{> admin/privileges-module-fields}}`):
      // a page and a route that sends only that part of it render it alike.
      for (const [, partial] of source.matchAll(/\{\{#?>\s*([a-z0-9-]+(?:\/[a-z0-9-]+)+)/g)) {
        if (partial && !this.handlebars.partials[partial]) this.handlebars.registerPartial(partial, this.template(partial));
      }
    }
    return compiled;
  }
}
