/**
 * An audit entry of a profile in words a CRM administrator reads ("Tickets: field Status
 * Read-only → Hidden", "Button “Tickets” added"), worked out from the before and after values
 * the audit keeps. `short` is what the profile page lists per entry (a module's field changes in
 * one line, at most `SHORT_LINES` lines); the entry's own page lists every change.
 *
 * The lines are plain text: the templates escape them (labels and names are admin text).
 */
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import type { AuditEntry } from '../profiles/profile-audit.js';
import { MODULE_TOOLS, NOTIFICATION_KINDS } from '../profiles/profile-document.js';

/** The lines an entry gets on the profile page, the "… and N more changes" line included. */
export const SHORT_LINES = 6;

export interface AuditWords {
  t(key: MessageKey, params?: MessageParams): string;
  moduleLabel(module: string): string;
  fieldLabel(module: string, field: string): string;
  /** An owner as the privileges page names it ("Sara Bianchi (sara.support)", "Support team (group)"); null once gone from the CRM. */
  ownerName(kind: 'user' | 'group', id: number): string | null;
  /** A CRM email template's name; null once gone from the CRM. */
  templateName(id: number): string | null;
}

type Item = Record<string, unknown>;

const isItem = (value: unknown): value is Item => value !== null && typeof value === 'object' && !Array.isArray(value);
const itemOf = (value: unknown): Item => (isItem(value) ? value : {});
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const textOf = (value: unknown): string => (typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value));
/** JSON with object keys sorted: two values built in different orders compare equal. */
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, item: unknown) => (isItem(item) ? Object.fromEntries(Object.entries(item).sort(([x], [y]) => x.localeCompare(y))) : item)) ?? 'null';
}

const MODULE_FLAGS = ['shown', 'view', 'create', 'edit', 'delete'] as const;
const SCOPE_KEYS: Readonly<Record<string, string>> = { contact: 'contact', account: 'account', 'account-and-subsidiaries': 'accountAndSubsidiaries' };

class Lines {
  readonly lines: string[] = [];
  constructor(
    readonly words: AuditWords,
    readonly short: boolean,
  ) {}

  add(key: MessageKey, params: MessageParams = {}): void {
    this.lines.push(this.words.t(key, params));
  }

  /** "{what}: {from} → {to}" when the values differ. */
  value(what: string, from: string, to: string): void {
    if (from !== to) this.add('profiles.audit.change.value', { what, from: from || this.unset(), to: to || this.unset() });
  }

  /** "{flag} switched on/off", with the module's name first when there is one. */
  flag(flag: string, from: unknown, to: unknown, module?: string): void {
    if (Boolean(from) === Boolean(to)) return;
    if (module === undefined) this.add(to ? 'profiles.audit.change.on' : 'profiles.audit.change.off', { flag });
    else this.add(to ? 'profiles.audit.change.moduleOn' : 'profiles.audit.change.moduleOff', { module, flag });
  }

  unset(): string {
    return this.words.t('profiles.audit.change.unset');
  }

  label(key: string, value: unknown): string {
    return value === null || value === undefined || value === '' ? this.unset() : this.words.t(`${key}.${textOf(value)}` as MessageKey);
  }
}

/** The entry's changes in words; an entry with nothing to tell gets one line saying so. */
export function describeAuditEntry(entry: AuditEntry, words: AuditWords, short: boolean): string[] {
  const out = new Lines(words, short);
  const before = entry.before;
  const after = entry.after;
  switch (entry.action) {
    case 'create':
    case 'duplicate': {
      const from = textOf(itemOf(after).startFrom);
      if (entry.action === 'duplicate') out.add('profiles.audit.change.duplicatedFrom', { name: from });
      else if (from) out.add('profiles.audit.change.createdFrom', { name: from });
      else out.add('profiles.audit.change.createdEmpty');
      break;
    }
    case 'import': {
      const file = itemOf(after);
      out.add('profiles.audit.change.imported', {
        modules: listOf(file.modules).length,
        buttons: listOf(file.buttons).length,
        rules: listOf(file.rules).length,
        skipped: listOf(file.skipped).length,
      });
      break;
    }
    case 'rename':
      out.value(words.t('profiles.name'), textOf(itemOf(before).name), textOf(itemOf(after).name));
      if (textOf(itemOf(before).description) !== textOf(itemOf(after).description)) out.add('profiles.audit.change.description');
      break;
    case 'delete': {
      const moved = itemOf(after);
      if (typeof moved.movedContacts === 'number' && typeof moved.movedTo === 'string') out.add('profiles.deletedList.moved', { count: moved.movedContacts, target: moved.movedTo });
      break;
    }
    case 'save':
      describeSection(out, entry.section, before, after);
      break;
  }
  const lines = out.lines.length > 0 ? out.lines : [words.t('profiles.audit.change.nothing')];
  if (!short || lines.length <= SHORT_LINES) return lines;
  const shown = lines.slice(0, SHORT_LINES - 1);
  return [...shown, words.t('profiles.audit.change.more', { count: lines.length - shown.length })];
}

function describeSection(out: Lines, section: AuditEntry['section'], before: unknown, after: unknown): void {
  const { words } = out;
  const old = itemOf(before);
  const now = itemOf(after);
  switch (section) {
    case 'general': {
      out.value(words.t('privileges.general.owner'), ownerText(out, old.owner), ownerText(out, now.owner));
      out.value(words.t('privileges.general.twoFactorType'), out.label('privileges.twoFactor', old.twoFactorType), out.label('privileges.twoFactor', now.twoFactorType));
      out.value(words.t('privileges.general.twoFactorFallback'), out.label('privileges.twoFactor', old.twoFactorFallback), out.label('privileges.twoFactor', now.twoFactorFallback));
      break;
    }
    case 'notifications': {
      const template = (value: unknown) =>
        value === null || value === undefined ? '' : ((typeof value === 'number' ? words.templateName(value) : null) ?? words.t('profiles.audit.change.template', { id: textOf(value) }));
      for (const kind of NOTIFICATION_KINDS) {
        out.value(words.t(`privileges.notifications.kinds.${kind}` as MessageKey), template(itemOf(old.templates)[kind]), template(itemOf(now.templates)[kind]));
      }
      out.value(words.t('privileges.notifications.smtpAccount'), out.label('privileges.notifications.smtp', old.smtpAccount), out.label('privileges.notifications.smtp', now.smtpAccount));
      out.value(words.t('privileges.notifications.senderEmail'), textOf(old.senderEmail), textOf(now.senderEmail));
      out.value(words.t('privileges.notifications.senderName'), textOf(old.senderName), textOf(now.senderName));
      break;
    }
    case 'globals':
      out.flag(words.t('privileges.globals.viewAll'), old.viewAll, now.viewAll);
      out.flag(words.t('privileges.globals.editAll'), old.editAll, now.editAll);
      break;
    case 'buttons':
      describeList(out, before, after, 'title', { added: 'profiles.audit.change.buttonAdded', removed: 'profiles.audit.change.buttonRemoved', changed: 'profiles.audit.change.buttonChanged', moved: 'profiles.audit.change.buttonsMoved' });
      break;
    case 'rules':
      describeList(out, before, after, 'name', { added: 'profiles.audit.change.ruleAdded', removed: 'profiles.audit.change.ruleRemoved', changed: 'profiles.audit.change.ruleChanged', moved: 'profiles.audit.change.rulesMoved' });
      break;
    case 'modules': {
      // Kept by the save as two lists of the modules that changed, in the same order.
      const olds = listOf(before);
      listOf(after).forEach((entry, i) => describeModule(out, itemOf(olds[i]), itemOf(entry)));
      break;
    }
    default:
      break;
  }
}

/** The owner by name while the CRM has it, else by its number (as the audit keeps it). */
function ownerText(out: Lines, value: unknown): string {
  const owner = itemOf(value);
  if (owner.kind !== 'user' && owner.kind !== 'group') return '';
  const name = typeof owner.id === 'number' ? out.words.ownerName(owner.kind, owner.id) : null;
  if (name !== null) return name;
  return out.words.t(owner.kind === 'user' ? 'profiles.audit.change.ownerUser' : 'profiles.audit.change.ownerGroup', { id: textOf(owner.id) });
}

function describeModule(out: Lines, old: Item, now: Item): void {
  const { words } = out;
  const name = textOf(now.module);
  const module = words.moduleLabel(name);
  for (const flag of MODULE_FLAGS) out.flag(words.t(`privileges.modules.${flag}`), old[flag], now[flag], module);
  if (old.scope !== now.scope) {
    const scope = (value: unknown) => (typeof value === 'string' && SCOPE_KEYS[value] ? words.t(`privileges.modules.scopes.${SCOPE_KEYS[value]}` as MessageKey) : out.unset());
    out.add('profiles.audit.change.scope', { module, from: scope(old.scope), to: scope(now.scope) });
  }
  const oldTools = itemOf(old.tools);
  const newTools = itemOf(now.tools);
  for (const tool of MODULE_TOOLS) out.flag(words.t(`privileges.modules.toolNames.${tool}`), oldTools[tool], newTools[tool], module);

  const oldFields = itemOf(old.fields);
  const newFields = itemOf(now.fields);
  const access = (value: unknown) => out.label('privileges.modules.access', value);
  const changed = [...new Set([...Object.keys(oldFields), ...Object.keys(newFields)])].filter((field) => oldFields[field] !== newFields[field]);
  const fieldParams = (field: string) => ({ module, field: words.fieldLabel(name, field), from: access(oldFields[field]), to: access(newFields[field]) });
  if (out.short && changed.length > 1) out.add('profiles.audit.change.fields', { ...fieldParams(changed[0]!), count: changed.length - 1 });
  else for (const field of changed) out.add('profiles.audit.change.field', fieldParams(field));

  if (!same(old.listColumns, now.listColumns)) {
    const columns = (value: unknown) => listOf(value).map((field) => words.fieldLabel(name, textOf(field))).join(', ') || words.t('profiles.audit.change.none');
    if (out.short) out.add('profiles.audit.change.columnsChanged', { module });
    else out.add('profiles.audit.change.columns', { module, from: columns(old.listColumns), to: columns(now.listColumns) });
  }
}

/** Buttons and rules, matched by their title or name: added, removed, changed, and whether the order changed. */
function describeList(out: Lines, before: unknown, after: unknown, nameKey: string, keys: Record<'added' | 'removed' | 'changed' | 'moved', MessageKey>): void {
  const olds = listOf(before).map(itemOf);
  const news = listOf(after).map(itemOf);
  const nameOf = (item: Item) => textOf(item[nameKey]);
  const oldByName = new Map(olds.map((item) => [nameOf(item), item]));
  const newNames = new Set(news.map(nameOf));
  for (const item of news) {
    const previous = oldByName.get(nameOf(item));
    if (!previous) out.add(keys.added, { name: nameOf(item) });
    else if (!same(previous, item)) out.add(keys.changed, { name: nameOf(item) });
  }
  for (const item of olds) if (!newNames.has(nameOf(item))) out.add(keys.removed, { name: nameOf(item) });
  const kept = (items: Item[], other: Set<string>) => items.map(nameOf).filter((name) => other.has(name));
  if (!same(kept(olds, newNames), kept(news, new Set(olds.map(nameOf))))) out.add(keys.moved);
}
