/**
 * The login history section of the Contact record's Business Portal block: the contact's last
 * `HISTORY_SHOWN` portal events (sign-ins, sign-outs, refusals with their reason, locks, unlocks
 * and by whom, sessions ended on a replayed remember-me token), with time and client address, in
 * the CRM user's language. Everything is escaped by the template: addresses and reasons are stored
 * as received. When the contact has older events, active CRM admins get a link to all of them,
 * page by page (`LoginHistoryRoutes`, on the admin router).
 */
import { inject, injectable } from 'inversify';
import { crmUserName } from '../http/crm-user-names.js';
import { LoginHistory, type RecordedLoginEvent } from '../auth/login-history.js';
import { HostUsers, type LanguageCode, type RecordBlockContext } from '../host-contract/index.js';
import { PageRenderer } from '../http/page-renderer.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import type { ContactBlockSection } from './contact-block-sections.js';

export const HISTORY_SHOWN = 20;

/** Where an admin reads all of a contact's portal events (`LoginHistoryRoutes`). */
export function loginHistoryPath(settingsPath: string, contactId: number): string {
  return `${settingsPath}/contacts/${contactId}/login-history`;
}

/** One event as the history's tables show it. */
export interface ShownLoginEvent {
  readonly at: string;
  readonly ip: string | null;
  readonly event: string;
  readonly text: string;
}

/** Stored reasons of refused sign-ins → their locale key; other reasons are shown as stored. */
const REFUSAL_REASONS: Readonly<Record<string, MessageKey>> = {
  wrong_password: 'auth.loginHistory.reasons.wrongPassword',
  wrong_current_password: 'auth.loginHistory.reasons.wrongCurrentPassword',
  locked: 'auth.loginHistory.reasons.locked',
  attempts_in_flight: 'auth.loginHistory.reasons.attemptsInFlight',
  client_banned: 'auth.loginHistory.reasons.clientBanned',
  portal_disabled: 'auth.loginHistory.reasons.portalDisabled',
  outside_support: 'auth.loginHistory.reasons.outsideSupport',
  no_password: 'auth.loginHistory.reasons.noPassword',
  contact_missing: 'auth.loginHistory.reasons.contactMissing',
  ambiguous_email: 'auth.loginHistory.reasons.ambiguousEmail',
  unknown_email: 'auth.loginHistory.reasons.unknownEmail',
  wrong_code: 'auth.loginHistory.reasons.wrongCode',
  code_expired_or_used: 'auth.loginHistory.reasons.codeExpiredOrUsed',
  reset_link_invalid: 'auth.loginHistory.reasons.resetLinkInvalid',
  second_factor_unavailable: 'auth.loginHistory.reasons.secondFactorUnavailable',
};

/** Stored reasons of new access details after an email change that did not leave → their locale key; any other was sent. */
const ACCESS_NOT_SENT_TEXTS: Readonly<Record<string, MessageKey>> = {
  // Not sent yet either: the host keeps them until the mail server answers (contract 1.10.0).
  kept_for_retry: 'contacts.history.accessKeptForRetry',
  mail_failed: 'contacts.history.accessNotSent',
  no_template: 'contacts.history.accessNoTemplate',
  no_email: 'contacts.history.accessNoEmail',
  mail_failed_password_kept: 'contacts.history.accessNotSentPasswordKept',
  no_template_password_kept: 'contacts.history.accessNoTemplatePasswordKept',
  no_email_password_kept: 'contacts.history.accessNoEmailPasswordKept',
};

/** `admin_unlock by user 3`, `admin by user 3` (how the history names the admin who acted) → the user id. */
const byUser = /^(?:admin_unlock|admin) by user (\d{1,10})$/;

/** Events that an admin may have caused (their reason names the admin). */
const ADMIN_EVENTS = new Set(['unlocked', 'enabled', 'disabled']);

@injectable()
export class LoginHistorySection implements ContactBlockSection {
  readonly id = 'login-history';
  readonly order = 200;

  constructor(
    @inject(LoginHistory) private readonly history: LoginHistory,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
  ) {}

  async render(context: RecordBlockContext): Promise<string> {
    const language = this.translator.supported(context.language);
    // One more than shown: whether there are older events to link to.
    const events = await this.history.forContact(context.recordId, { limit: HISTORY_SHOWN + 1 });
    const { user } = context.session;
    const older = events.length > HISTORY_SHOWN && user.isAdmin && user.active;
    return this.renderer.render('admin/contact-block-login-history', language, {
      shown: HISTORY_SHOWN,
      events: await this.shown(events.slice(0, HISTORY_SHOWN), language),
      allHref: older ? loginHistoryPath(this.settings.settingsPath, context.recordId) : null,
    });
  }

  /** Events in words, in `language`, for the block and the page of all events. */
  async shown(events: readonly RecordedLoginEvent[], language: LanguageCode): Promise<ShownLoginEvent[]> {
    const names = await this.adminNames(events);
    return events.map((event) => ({ at: event.at, ip: event.ip, event: event.event, text: this.describe(event, language, names) }));
  }

  private describe(event: RecordedLoginEvent, language: LanguageCode, names: ReadonlyMap<number, string>): string {
    const t = (key: MessageKey, params?: Record<string, string | number>) => this.translator.t(language, key, params);
    switch (event.event) {
      case 'login':
        return t('auth.loginHistory.login');
      case 'logout':
        return t('auth.loginHistory.logout');
      case 'locked':
        return t('auth.loginHistory.locked');
      case 'failed': {
        const key = event.reason ? REFUSAL_REASONS[event.reason] : undefined;
        return t('auth.loginHistory.failed', { reason: key ? t(key) : (event.reason ?? '') });
      }
      case 'unlocked': {
        if (event.reason === 'unlock_link') return t('auth.loginHistory.unlockedByLink');
        if (event.reason === 'email_changed') return t('auth.loginHistory.unlockedNewAccessDetails');
        const admin = event.reason ? byUser.exec(event.reason) : null;
        if (!admin) return t('auth.loginHistory.unlocked');
        const id = Number(admin[1]);
        return t('auth.loginHistory.unlockedByAdmin', { name: names.get(id) ?? t('auth.loginHistory.unknownUser', { id }) });
      }
      case 'enabled':
      case 'disabled': {
        const admin = event.reason ? byUser.exec(event.reason) : null;
        const enabled = event.event === 'enabled';
        if (admin) {
          const id = Number(admin[1]);
          const name = names.get(id) ?? t('auth.loginHistory.unknownUser', { id });
          return t(enabled ? 'contacts.history.enabledByAdmin' : 'contacts.history.disabledByAdmin', { name });
        }
        if (!enabled && event.reason === 'email_removed') return t('contacts.history.disabledEmailRemoved');
        if (!enabled && event.reason === 'email_in_use') return t('contacts.history.disabledEmailInUse');
        return t(enabled ? 'contacts.history.enabled' : 'contacts.history.disabled');
      }
      case 'access_sent':
        return t((event.reason ? ACCESS_NOT_SENT_TEXTS[event.reason] : undefined) ?? 'contacts.history.accessSent');
      case 'revoked':
        if (event.reason === 'token_replayed') return t('auth.loginHistory.tokenReplayed');
        if (event.reason === 'second_factor_required') return t('auth.loginHistory.secondFactorRequired');
        return String(event.event);
      default:
        return String(event.event);
    }
  }

  /** The display names of the admins who unlocked this contact, looked up once each. */
  private async adminNames(events: readonly RecordedLoginEvent[]): Promise<Map<number, string>> {
    const ids = new Set<number>();
    for (const event of events) {
      const match = ADMIN_EVENTS.has(event.event) && event.reason ? byUser.exec(event.reason) : null;
      if (match) ids.add(Number(match[1]));
    }
    const names = new Map<number, string>();
    for (const id of ids) {
      const user = await this.users.user(id);
      if (user) names.set(id, crmUserName(user));
    }
    return names;
  }
}
