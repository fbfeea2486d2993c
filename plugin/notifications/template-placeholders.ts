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

/**
 * The names under which a CRM ships the portal's standard templates: what a profile that chooses
 * none sends (here, where the profile checks read them too without depending on the mailer).
 */
export const STANDARD_TEMPLATE_NAMES: Readonly<Record<NotificationKind, string>> = {
  registration: 'Customer portal: access details',
  passwordChanged: 'Customer portal: password changed',
  passwordRecovery: 'Customer portal: password recovery',
  newTicket: 'Customer portal: new ticket',
  ticketReply: 'Customer portal: reply to a ticket',
};

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
 * Where a required merge field is missing: from the whole version (`everywhere`), or from one part of
 * its body only while the other part merges it — the plain text (`text`) or the HTML (`html`). The
 * admin is told which, as "does not contain" is not true of a template whose HTML shows the password.
 */
export type PlaceholderGap = 'everywhere' | 'text' | 'html';

/**
 * Null when a rendered version puts `marker` before every reader: in its subject, or in each part of
 * its body that a mail client may show — the HTML part and the plain-text alternative (a text-only
 * client, a reader who prefers plain text), a blank part being no part. Else where it is missing.
 */
function gapIn(rendered: RenderedEmail, marker: string): PlaceholderGap | null {
  if (rendered.subject.includes(marker)) return null;
  const html = rendered.html.trim() === '' ? null : rendered.html.includes(marker);
  const text = rendered.text.trim() === '' ? null : rendered.text.includes(marker);
  if (html !== false && text !== false && (html || text)) return null;
  if (html === true) return 'text';
  if (text === true) return 'html';
  return 'everywhere';
}

/**
 * The merge fields whose marker is missing from any of the rendered versions (null: one that could
 * not be rendered), and where: one part only when every version lacking it lacks it in that part.
 */
function gapsIn(versions: readonly (RenderedEmail | null)[], markers: ReadonlyMap<string, string>): ReadonlyMap<string, PlaceholderGap> {
  const gaps = new Map<string, PlaceholderGap>();
  for (const rendered of versions) {
    for (const [placeholder, marker] of markers) {
      const gap = rendered ? gapIn(rendered, marker) : 'everywhere';
      if (gap === null) continue;
      const before = gaps.get(placeholder);
      gaps.set(placeholder, before === undefined || before === gap ? gap : 'everywhere');
    }
  }
  return gaps;
}

function missingIn(versions: readonly (RenderedEmail | null)[], markers: ReadonlyMap<string, string>): ReadonlySet<string> {
  return new Set(gapsIn(versions, markers).keys());
}

/** Each language version of the template rendered with the markers (null: one that could not be rendered). */
async function renderedVersions(templates: HostEmailTemplates, template: EmailTemplate, data: Record<string, Record<string, string>>): Promise<(RenderedEmail | null)[]> {
  const versions: (RenderedEmail | null)[] = [];
  for (const language of checkedLanguages(template)) {
    try {
      versions.push(await templates.render(template.id, language, data));
    } catch {
      versions.push(null);
    }
  }
  return versions;
}

/**
 * The required merge fields (of every kind) that the template does not merge in each of its
 * language versions. A version that cannot be rendered merges nothing.
 */
export async function placeholdersMissing(templates: HostEmailTemplates, template: EmailTemplate): Promise<ReadonlySet<string>> {
  const { markers, data } = markerData();
  return missingIn(await renderedVersions(templates, template, data), markers);
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
  return (await placeholderGapFor(templates, template, kind))?.placeholder ?? null;
}

/** The merge field `kind` needs that the template lacks and where it lacks it, or null when the template fits the kind. */
export async function placeholderGapFor(
  templates: HostEmailTemplates,
  template: EmailTemplate,
  kind: NotificationKind,
): Promise<{ readonly placeholder: string; readonly gap: PlaceholderGap } | null> {
  const required = requiredPlaceholder(kind);
  if (required === null) return null;
  const { markers, data } = markerData();
  const gap = gapsIn(await renderedVersions(templates, template, data), markers).get(required);
  return gap === undefined ? null : { placeholder: required, gap };
}

/** The refusal of a template choice that lacks what its kind needs, by kind and where it lacks it. */
export const TEMPLATE_GAP_MESSAGES = {
  registration: { everywhere: 'profiles.validation.templateLacksPassword', text: 'profiles.validation.templateLacksPasswordInText', html: 'profiles.validation.templateLacksPasswordInHtml' },
  passwordRecovery: { everywhere: 'profiles.validation.templateLacksResetLink', text: 'profiles.validation.templateLacksResetLinkInText', html: 'profiles.validation.templateLacksResetLinkInHtml' },
} as const satisfies Readonly<Record<'registration' | 'passwordRecovery', Readonly<Record<PlaceholderGap, string>>>>;

/**
 * Which of `fields` the template merges as `{{namespace.field}}` in any language version (subject,
 * HTML or plain text): each version rendered with a marker in place of each field. A version that
 * cannot be rendered merges nothing.
 */
export async function fieldsMerged(templates: HostEmailTemplates, template: EmailTemplate, namespace: string, fields: readonly string[]): Promise<ReadonlySet<string>> {
  if (fields.length === 0) return new Set();
  const nonce = randomBytes(8).toString('hex');
  const markers = new Map(fields.map((field, index) => [field, `bpfield${nonce}x${index}`]));
  const data = { [namespace]: Object.fromEntries([...markers].map(([field, marker]) => [field, marker])) };
  const merged = new Set<string>();
  for (const rendered of await renderedVersions(templates, template, data)) {
    if (!rendered) continue;
    for (const [field, marker] of markers) {
      if (rendered.subject.includes(marker) || rendered.html.includes(marker) || rendered.text.includes(marker)) merged.add(field);
    }
  }
  return merged;
}
