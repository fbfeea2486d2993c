/**
 * The plugin's own mails (`templates/mail/<kind>.hbs` for the HTML part, `<kind>-text.hbs` for
 * the plain part), for the kinds that no host template covers: account locked, two-factor code,
 * support-ending reminder, and the owner's new-ticket mail. The subject comes from the locales
 * (`mail.<kind>.subject`, else `portal.mail.<kind>.subject`), its placeholders filled from the
 * data's `subject` namespace.
 * The HTML part escapes every value, a value's line breaks there as `<br>` (`htmlData`); the text
 * part is plain text and escapes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { inject, injectable } from 'inversify';
import type { LanguageCode, RenderedEmail } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginFiles } from '../lifecycle/plugin-files.js';
import type { PortalMailData, PortalMailKind } from './portal-mailer.js';

/** The kinds the plugin renders itself, and their template file names. */
export const PLUGIN_MAIL_FILES = {
  accountLocked: 'account-locked',
  twoFactorCode: 'two-factor-code',
  supportEndingReminder: 'support-ending-reminder',
  newTicketToOwner: 'new-ticket-to-owner',
} as const satisfies Partial<Record<PortalMailKind, string>>;

export type PluginMailKind = keyof typeof PLUGIN_MAIL_FILES;

/** A merged value of several lines in the HTML part: escaped, each line break a `<br>`; the helpers read its text. */
class HtmlLines extends Handlebars.SafeString {
  constructor(readonly text: string) {
    super(Handlebars.escapeExpression(text).replace(/\r\n|\r|\n/g, '<br>'));
  }
}

/** What a helper reads of a merged value: the text of a value of several lines. */
function plain(value: unknown): unknown {
  return value instanceof HtmlLines ? value.text : value;
}

/**
 * The data of the HTML part: each value of several lines (a ticket's description) as `HtmlLines`, so
 * that it keeps its lines wherever a template merges it (HTML folds them into spaces), its markup
 * still text. One place for every merged value.
 */
function htmlData(data: PortalMailData): Record<string, unknown> {
  const html: Record<string, unknown> = {};
  for (const [namespace, values] of Object.entries(data)) {
    html[namespace] = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === 'string' && /[\r\n]/.test(value) ? new HtmlLines(value) : value]));
  }
  return html;
}

export function isPluginMailKind(kind: PortalMailKind): kind is PluginMailKind {
  return Object.prototype.hasOwnProperty.call(PLUGIN_MAIL_FILES, kind);
}

export const PluginMailTemplates = Symbol.for('business-portal.notifications.PluginMailTemplates');
export interface PluginMailTemplates {
  render(kind: PluginMailKind, language: LanguageCode, data: PortalMailData): RenderedEmail;
}

@injectable()
export class HandlebarsPluginMailTemplates implements PluginMailTemplates {
  private readonly html = Handlebars.create();
  private readonly text = Handlebars.create();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();

  constructor(
    @inject(PluginFiles) private readonly files: PluginFiles,
    @inject(Translator) private readonly translator: Translator,
  ) {
    for (const instance of [this.html, this.text]) {
      // {{t "portal.mail.twoFactorCode.intro" minutes=10}}: placeholders filled, then escaped (HTML part) or not (text part).
      instance.registerHelper('t', (key: unknown, options: Handlebars.HelperOptions) => {
        if (typeof key !== 'string' || !translator.has(key)) throw new Error(`Mail template uses an unknown translation key: ${String(key)}`);
        const root = options.data?.root as { language?: unknown } | undefined;
        const language = typeof root?.language === 'string' ? root.language : translator.defaultLanguage();
        const params = Object.fromEntries(Object.entries((options.hash ?? {}) as Record<string, unknown>).map(([name, value]) => [name, plain(value)]));
        return translator.t(language, key as MessageKey, params as MessageParams);
      });
      // {{greeting contact.firstname}}: "Hello Mario," — or "Hello," for someone without a first name (never "Hello null,").
      instance.registerHelper('greeting', (merged: unknown, options: Handlebars.HelperOptions) => {
        const name = plain(merged);
        const root = options.data?.root as { language?: unknown } | undefined;
        const language = typeof root?.language === 'string' ? root.language : translator.defaultLanguage();
        return typeof name === 'string' && name !== '' ? translator.t(language, 'portal.mail.greeting', { name }) : translator.t(language, 'portal.mail.greetingNoName');
      });
      // {{label labels "status" ticket.status}}: the label `<field>_<language>` of the data's `labels` in the mail's language, else the value as stored.
      instance.registerHelper('label', (labels: unknown, field: unknown, value: unknown, options: Handlebars.HelperOptions) => {
        const root = options.data?.root as { language?: unknown } | undefined;
        const texts = typeof labels === 'object' && labels !== null ? (labels as Record<string, unknown>) : {};
        const text = typeof root?.language === 'string' ? texts[`${String(field)}_${root.language}`] : undefined;
        return typeof text === 'string' ? text : (value ?? '');
      });
    }
  }

  render(kind: PluginMailKind, language: LanguageCode, data: PortalMailData): RenderedEmail {
    const file = PLUGIN_MAIL_FILES[kind];
    const context = { ...data, language };
    const subjectKey = [`mail.${kind}.subject`, `portal.mail.${kind}.subject`].find((key) => this.translator.has(key));
    const params: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(data.subject ?? {})) if (typeof value === 'string' || typeof value === 'number') params[name] = value;
    const subject = subjectKey ? this.translator.t(language, subjectKey as MessageKey, params) : kind;
    return {
      subject: subject.replace(/[\r\n]+/g, ' '),
      html: this.template(this.html, file, false)({ ...htmlData(data), language }),
      text: this.template(this.text, `${file}-text`, true)(context),
    };
  }

  private template(instance: typeof Handlebars, name: string, plain: boolean): Handlebars.TemplateDelegate {
    const cacheKey = `${plain ? 'text' : 'html'}:${name}`;
    let compiled = this.compiled.get(cacheKey);
    if (!compiled) {
      const path = join(this.files.templatesDir, 'mail', `${name}.hbs`);
      if (!existsSync(path)) throw new Error(`Business Portal: the mail template ${path} is missing`);
      compiled = instance.compile(readFileSync(path, 'utf8'), { strict: false, noEscape: plain });
      this.compiled.set(cacheKey, compiled);
    }
    return compiled;
  }
}
