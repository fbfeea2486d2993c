/**
 * The CRM's email templates (`crm_email_templates`, one version per language in
 * `crm_email_template_versions`), rendered with Handlebars: `{{namespace.key}}` merge fields,
 * escaped in the HTML part (a value's line breaks there as `<br>`), plain in the subject and the
 * text part.
 */
import Handlebars from 'handlebars';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { EmailTemplate, FieldValue, HostEmailTemplates, LanguageCode, RenderedEmail, RenderedTemplateVersion } from '../../plugin/host-contract/index.js';
import { toNumber } from '../schema/row-values.js';

export class UnknownTemplateError extends Error {
  constructor(readonly templateId: number) {
    super(`No email template with id ${templateId}`);
    this.name = 'UnknownTemplateError';
  }
}

interface TemplateRow {
  id: unknown;
  name: string;
  description: string;
  module: string | null;
  default_language: string;
}

type MergeData = Readonly<Record<string, Readonly<Record<string, FieldValue | undefined>>>>;

/** Merge values as strings (lists joined); prototype-less objects so nothing inherited can be merged. */
function mergeContext(data: MergeData): Record<string, Record<string, string>> {
  const context: Record<string, Record<string, string>> = Object.create(null);
  for (const [namespace, values] of Object.entries(data ?? {})) {
    const target: Record<string, string> = Object.create(null);
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === null || value === undefined) continue;
      target[key] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    context[namespace] = target;
  }
  return context;
}

/**
 * The merge values of the HTML part: a value of several lines escaped, each line break a `<br>`, so
 * that a description merged into a template's plain `<p>` keeps its lines (HTML folds them into
 * spaces); its markup stays text. One place for every merged value, whatever the template does.
 */
function htmlContext(context: Record<string, Record<string, string>>): Record<string, Record<string, string | Handlebars.SafeString>> {
  const html: Record<string, Record<string, string | Handlebars.SafeString>> = Object.create(null);
  for (const [namespace, values] of Object.entries(context)) {
    const target: Record<string, string | Handlebars.SafeString> = Object.create(null);
    for (const [key, value] of Object.entries(values)) {
      target[key] = /[\r\n]/.test(value) ? new Handlebars.SafeString(Handlebars.escapeExpression(value).replace(/\r\n|\r|\n/g, '<br>')) : value;
    }
    html[namespace] = target;
  }
  return html;
}

export class SqlEmailTemplates implements HostEmailTemplates {
  private readonly handlebars = Handlebars.create();

  constructor(private readonly sequelize: Sequelize) {}

  async templates(): Promise<readonly EmailTemplate[]> {
    const rows = await this.sequelize.query<TemplateRow>('SELECT id, name, description, module, default_language FROM crm_email_templates ORDER BY name, id', {
      type: QueryTypes.SELECT,
    });
    const versions = await this.sequelize.query<{ template_id: unknown; language: string }>(
      'SELECT template_id, language FROM crm_email_template_versions ORDER BY language',
      { type: QueryTypes.SELECT },
    );
    return rows.map((row) =>
      this.toTemplate(
        row,
        versions.filter((v) => toNumber(v.template_id) === toNumber(row.id)).map((v) => v.language),
      ),
    );
  }

  async template(id: number): Promise<EmailTemplate | null> {
    if (!Number.isSafeInteger(id)) return null;
    const [row] = await this.sequelize.query<TemplateRow>('SELECT id, name, description, module, default_language FROM crm_email_templates WHERE id = $id', {
      bind: { id },
      type: QueryTypes.SELECT,
    });
    if (!row) return null;
    const versions = await this.sequelize.query<{ language: string }>('SELECT language FROM crm_email_template_versions WHERE template_id = $id ORDER BY language', {
      bind: { id },
      type: QueryTypes.SELECT,
    });
    return this.toTemplate(row, versions.map((v) => v.language));
  }

  async render(id: number, language: LanguageCode, data: MergeData): Promise<RenderedEmail> {
    if (!Number.isSafeInteger(id)) throw new UnknownTemplateError(id);
    // The language asked for, else the template's default language, else English, else any.
    const versions = await this.sequelize.query<{ language: string; subject: string; html: string; text: string; default_language: string }>(
      `SELECT v.language, v.subject, v.html, v.text, t.default_language
         FROM crm_email_template_versions v JOIN crm_email_templates t ON t.id = v.template_id
        WHERE v.template_id = $id`,
      { bind: { id }, type: QueryTypes.SELECT },
    );
    const pick = (code: string | undefined) => versions.find((v) => v.language === code);
    const version = pick(language) ?? pick(versions[0]?.default_language) ?? pick('en') ?? versions[0];
    if (!version) throw new UnknownTemplateError(id);
    return this.renderVersion(version, mergeContext(data));
  }

  /** Every version of each template, in one statement. */
  async renderVersions(ids: readonly number[], data: MergeData): Promise<readonly RenderedTemplateVersion[]> {
    const wanted = [...new Set(ids.filter((id) => Number.isSafeInteger(id)))];
    if (wanted.length === 0) return [];
    const versions = await this.sequelize.query<{ template_id: unknown; language: string; subject: string; html: string; text: string }>(
      'SELECT template_id, language, subject, html, text FROM crm_email_template_versions WHERE template_id IN (:wanted)',
      { replacements: { wanted }, type: QueryTypes.SELECT },
    );
    const context = mergeContext(data);
    const rendered: RenderedTemplateVersion[] = [];
    for (const version of versions) {
      try {
        rendered.push({ templateId: toNumber(version.template_id), language: version.language, ...this.renderVersion(version, context) });
      } catch {
        // A version that cannot be rendered is left out.
      }
    }
    return rendered;
  }

  private renderVersion(version: { subject: string; html: string; text: string }, context: Record<string, Record<string, string>>): RenderedEmail {
    const plain = (source: string) => this.handlebars.compile(source, { noEscape: true })(context);
    return {
      // A subject is one header line, whatever the data holds.
      subject: plain(version.subject).replace(/[\r\n]+/g, ' ').trim(),
      html: this.handlebars.compile(version.html)(htmlContext(context)),
      text: plain(version.text),
    };
  }

  private toTemplate(row: TemplateRow, languages: readonly string[]): EmailTemplate {
    return Object.freeze({ id: toNumber(row.id), name: row.name, description: row.description, module: row.module, languages: Object.freeze([...languages]) });
  }
}
