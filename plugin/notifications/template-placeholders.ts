/**
 * What a host email template must merge to be of use for a portal mail kind: the access details
 * carry the generated password (`{{portal.password}}`) — without it the new portal user can never
 * sign in — and password recovery carries the reset link (`{{portal.resetUrl}}`) — without it the
 * mail is useless. The other kinds need nothing: the standard templates' other merge fields (the
 * portal's address, the contact's name, the ticket) may as well be written out, or left out.
 *
 * The host contract gives a template's name and languages, not its text: a template is checked by
 * rendering each of its language versions with a marker in place of each required value, and
 * looking for the marker in what comes out: in the subject, or in both the HTML part and the plain
 * text (the one a text-only mail client shows; a version without plain text, the HTML alone). The one rule for the profile
 * save, the version 1 "Select template", the pages' template choices and the sending side. A page
 * that offers every template checks them all at once (`placeholdersMissingEach`): one read on a
 * host of contract 1.6.0, rather than one per template and language.
 */
import { randomBytes } from 'node:crypto';
import type { EmailTemplate, HostEmailTemplates, RenderedEmail } from '../host-contract/index.js';
import type { NotificationKind } from '../profiles/profile-document.js';

/** Per kind, the merge field (`namespace.key`) a template of that kind must hold. */
export const REQUIRED_PLACEHOLDERS: Readonly<Partial<Record<NotificationKind, string>>> = {
  registration: 'portal.password',
  passwordRecovery: 'portal.resetUrl',
};

/** The merge field `kind` needs, or null when any template will do. */
export function requiredPlaceholder(kind: NotificationKind): string | null {
  return REQUIRED_PLACEHOLDERS[kind] ?? null;
}

/** `portal.password` as an admin writes it in a template. */
export function placeholderText(placeholder: string): string {
  return `{{${placeholder}}}`;
}

/** A marker for each required merge field, and the merge data that puts each in its place. */
function markerData(): { markers: ReadonlyMap<string, string>; data: Record<string, Record<string, string>> } {
  const required = [...new Set(Object.values(REQUIRED_PLACEHOLDERS))];
  // Letters and digits only: the same once escaped for HTML.
  const nonce = randomBytes(8).toString('hex');
  const markers = new Map(required.map((placeholder, index) => [placeholder, `bpcheck${nonce}x${index}`]));
  const data: Record<string, Record<string, string>> = {};
  for (const [placeholder, marker] of markers) {
    const [namespace = '', key = ''] = placeholder.split('.');
    (data[namespace] ??= {})[key] = marker;
  }
  return { markers, data };
}

/** The languages a template is checked in: each it has a version in (English when it lists none). */
function checkedLanguages(template: EmailTemplate): readonly string[] {
  return template.languages.length > 0 ? template.languages : ['en'];
}

/**
 * Whether a rendered version puts `marker` before every reader: in its subject, or in each part of its
 * body that a mail client may show — the HTML part and the plain-text alternative (a text-only client,
 * a reader who prefers plain text), a blank part being no part.
 */
function shows(rendered: RenderedEmail, marker: string): boolean {
  if (rendered.subject.includes(marker)) return true;
  const parts = [rendered.html, rendered.text].filter((part) => part.trim() !== '');
  return parts.length > 0 && parts.every((part) => part.includes(marker));
}

/** The merge fields whose marker is missing from any of the rendered versions (null: one that could not be rendered). */
function missingIn(versions: readonly (RenderedEmail | null)[], markers: ReadonlyMap<string, string>): ReadonlySet<string> {
  const missing = new Set<string>();
  for (const rendered of versions) {
    for (const [placeholder, marker] of markers) if (!rendered || !shows(rendered, marker)) missing.add(placeholder);
  }
  return missing;
}

/**
 * The required merge fields (of every kind) that the template does not merge in each of its
 * language versions. A version that cannot be rendered merges nothing.
 */
export async function placeholdersMissing(templates: HostEmailTemplates, template: EmailTemplate): Promise<ReadonlySet<string>> {
  const { markers, data } = markerData();
  const versions: (RenderedEmail | null)[] = [];
  for (const language of checkedLanguages(template)) {
    try {
      versions.push(await templates.render(template.id, language, data));
    } catch {
      versions.push(null);
    }
  }
  return missingIn(versions, markers);
}

/**
 * `placeholdersMissing` of each template, by id: every version read and rendered at once when the
 * host can (contract 1.6.0), else template by template.
 */
export async function placeholdersMissingEach(templates: HostEmailTemplates, list: readonly EmailTemplate[]): Promise<ReadonlyMap<number, ReadonlySet<string>>> {
  if (!templates.renderVersions) return new Map(await Promise.all(list.map(async (template) => [template.id, await placeholdersMissing(templates, template)] as const)));
  if (list.length === 0) return new Map();
  const { markers, data } = markerData();
  const rendered = new Map<number, Map<string, RenderedEmail>>();
  for (const version of await templates.renderVersions(list.map((template) => template.id), data)) {
    let byLanguage = rendered.get(version.templateId);
    if (!byLanguage) rendered.set(version.templateId, (byLanguage = new Map()));
    byLanguage.set(version.language, version);
  }
  return new Map(
    list.map((template) => [template.id, missingIn(checkedLanguages(template).map((language) => rendered.get(template.id)?.get(language) ?? null), markers)] as const),
  );
}

/** The merge field `kind` needs that the template lacks, or null when the template fits the kind. */
export async function missingPlaceholderFor(templates: HostEmailTemplates, template: EmailTemplate, kind: NotificationKind): Promise<string | null> {
  const required = requiredPlaceholder(kind);
  if (required === null) return null;
  return (await placeholdersMissing(templates, template)).has(required) ? required : null;
}
