/**
 * What a host email template must merge to be of use for a portal mail kind: the access details
 * carry the generated password (`{{portal.password}}`) — without it the new portal user can never
 * sign in — and password recovery carries the reset link (`{{portal.resetUrl}}`) — without it the
 * mail is useless. The other kinds need nothing: the standard templates' other merge fields (the
 * portal's address, the contact's name, the ticket) may as well be written out, or left out.
 *
 * The host contract gives a template's name and languages, not its text: a template is checked by
 * rendering each of its language versions with a marker in place of each required value, and
 * looking for the marker in what comes out (subject, HTML or text). The one rule for the profile
 * save, the version 1 "Select template", the pages' template choices and the sending side.
 */
import { randomBytes } from 'node:crypto';
import type { EmailTemplate, HostEmailTemplates } from '../host-contract/index.js';
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

/**
 * The required merge fields (of every kind) that the template does not merge in each of its
 * language versions. A version that cannot be rendered merges nothing.
 */
export async function placeholdersMissing(templates: HostEmailTemplates, template: EmailTemplate): Promise<ReadonlySet<string>> {
  const required = [...new Set(Object.values(REQUIRED_PLACEHOLDERS))];
  // Letters and digits only: the same once escaped for HTML.
  const nonce = randomBytes(8).toString('hex');
  const markers = new Map(required.map((placeholder, index) => [placeholder, `bpcheck${nonce}x${index}`]));
  const data: Record<string, Record<string, string>> = {};
  for (const [placeholder, marker] of markers) {
    const [namespace = '', key = ''] = placeholder.split('.');
    (data[namespace] ??= {})[key] = marker;
  }
  const missing = new Set<string>();
  const languages = template.languages.length > 0 ? template.languages : ['en'];
  for (const language of languages) {
    let output = '';
    try {
      const rendered = await templates.render(template.id, language, data);
      output = `${rendered.subject}\n${rendered.html}\n${rendered.text}`;
    } catch {
      output = '';
    }
    for (const [placeholder, marker] of markers) if (!output.includes(marker)) missing.add(placeholder);
  }
  return missing;
}

/** The merge field `kind` needs that the template lacks, or null when the template fits the kind. */
export async function missingPlaceholderFor(templates: HostEmailTemplates, template: EmailTemplate, kind: NotificationKind): Promise<string | null> {
  const required = requiredPlaceholder(kind);
  if (required === null) return null;
  return (await placeholdersMissing(templates, template)).has(required) ? required : null;
}
