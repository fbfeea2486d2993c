/**
 * The form of the Contact record's portal-user section posts here, on the admin router (so for
 * active CRM admins only, with the CSRF token of their CRM session — anyone else is refused
 * before this runs):
 *
 *   POST {settingsPath}/contacts/:id/portal-user
 *        portalUser=yes|no, profileId (version 2 only), supportStartDate, supportEndDate (YYYY-MM-DD or empty),
 *        version (of the settings the form showed: `settingsVersion`)
 *
 * The answer is a page in the admin's language saying what happened (access details sent to…,
 * portal user switched off…) or why nothing was saved, with a link back to the contact:
 * 200 saved, 400 malformed form, 404 no such contact, 409 changed by someone else meanwhile,
 * 422 refused (no email, an email that is another portal user's login, end date past or before
 * the start, unknown profile, a profile chosen on version 1).
 *
 * After a 400 or a 422 the page holds the form again, with what the admin typed and the refusal
 * next to the field it is about, so nothing typed is lost. (Going back to the Contact record with
 * the form filled in is not possible from here: the host renders that page, and the contract's
 * `RecordBlockContext` carries no request, so the block could only be handed the typed values
 * through stored per-session state.) A 409 keeps only the link back: the admin should see the
 * other change before saving over it.
 */
import type { Request, Response, Router } from 'express';
import { Ajv, type JSONSchemaType } from 'ajv';
import { inject, injectable } from 'inversify';
import { todayIn } from '../auth/support-period.js';
import { HostRegional } from '../host-contract/index.js';
import { AdminPages, crmSessionOf } from '../http/admin-pages.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import type { AdminRouteContribution } from '../lifecycle/contributions.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import type { AccessDetailsDelivery } from './access-details.js';
import { contactBlockStylesheet } from './contact-record-block.js';
import { PortalUserSection, type PortalUserField, type PortalUserRetry } from './portal-user-section.js';
import { PortalUserSettings, type PortalUserOutcome, type PortalUserRefusal } from './portal-user-settings.js';
import { formatSupportDay } from './support-reminders.js';

export const PORTAL_USER_PATH = '/contacts/:id/portal-user';

/** Where the host shows a contact (the reference host's Contact record page). */
export function contactPageOf(contactId: number): string {
  return `/contacts/${contactId}`;
}

interface PortalUserForm {
  _csrf?: string;
  portalUser: 'yes' | 'no';
  /** Absent on version 1, which has no profiles. */
  profileId?: string;
  supportStartDate: string;
  supportEndDate: string;
  version: string;
}

const DATE = '^(\\d{4}-\\d{2}-\\d{2})?$';

const schema: JSONSchemaType<PortalUserForm> = {
  type: 'object',
  additionalProperties: false,
  required: ['portalUser', 'supportStartDate', 'supportEndDate', 'version'],
  properties: {
    _csrf: { type: 'string', nullable: true },
    portalUser: { type: 'string', enum: ['yes', 'no'] },
    profileId: { type: 'string', nullable: true, pattern: '^([1-9][0-9]{0,8})?$' },
    supportStartDate: { type: 'string', pattern: DATE },
    supportEndDate: { type: 'string', pattern: DATE },
    version: { type: 'string', pattern: '^(0|[1-9][0-9]{0,8})$' },
  },
};

const validateForm = new Ajv({ strict: true, allErrors: true }).compile(schema);

/** The form fields an ajv error points at → their label's key (what the admin is told to fix). */
const FIELD_LABELS: Readonly<Record<PortalUserField, MessageKey>> = {
  portalUser: 'contacts.portalUser.portalUser',
  profileId: 'contacts.portalUser.profile',
  supportStartDate: 'contacts.portalUser.supportStart',
  supportEndDate: 'contacts.portalUser.supportEnd',
};

const isFormField = (name: string): name is PortalUserField => Object.prototype.hasOwnProperty.call(FIELD_LABELS, name);

/**
 * Each refusal: its status, its message, and the field it is about — or `retry: false` when the
 * form is not shown again (no contact; someone else's change the admin should look at first).
 */
const REFUSALS: Readonly<Record<PortalUserRefusal, { readonly status: number; readonly key: MessageKey; readonly field?: PortalUserField; readonly retry: boolean }>> = {
  contact_missing: { status: 404, key: 'contacts.portalUser.refused.contactMissing', retry: false },
  no_email: { status: 422, key: 'contacts.portalUser.refused.noEmail', field: 'portalUser', retry: true },
  email_in_use: { status: 422, key: 'contacts.portalUser.refused.emailInUse', field: 'portalUser', retry: true },
  end_in_past: { status: 422, key: 'contacts.portalUser.refused.endInPast', field: 'supportEndDate', retry: true },
  end_before_start: { status: 422, key: 'contacts.portalUser.refused.endBeforeStart', field: 'supportEndDate', retry: true },
  unknown_profile: { status: 422, key: 'contacts.portalUser.refused.unknownProfile', field: 'profileId', retry: true },
  profile_on_v1: { status: 422, key: 'contacts.portalUser.refused.profileOnVersion1', field: 'profileId', retry: true },
  stale: { status: 409, key: 'contacts.portalUser.refused.stale', retry: false },
};

/** Why the access details of a portal user just switched on did not leave → what the admin is told. */
const NOT_SENT: Readonly<Record<Exclude<AccessDetailsDelivery, 'sent' | 'kept_for_retry'>, MessageKey>> = {
  mail_failed: 'contacts.portalUser.saved.enabledNotMailed',
  no_template: 'contacts.portalUser.saved.enabledNoTemplate',
  no_email: 'contacts.portalUser.saved.enabledEmailGone',
};

/** What the admin typed, as sent (text fields only: anything else of a malformed form is dropped). */
function typedValues(body: unknown): PortalUserRetry['typed'] {
  const typed: Partial<Record<PortalUserField | 'version', string>> = {};
  if (typeof body !== 'object' || body === null) return typed;
  for (const name of ['portalUser', 'profileId', 'supportStartDate', 'supportEndDate', 'version'] as const) {
    const value = (body as Record<string, unknown>)[name];
    if (typeof value === 'string') typed[name] = value.slice(0, 100);
  }
  return typed;
}

/**
 * A real calendar day (the pattern lets 2026-02-31 through) of a year from 1000 to 9999, the days
 * a date column holds on every database (PostgreSQL has no year 0000: it refused the save with a 500).
 */
function calendarDay(value: string): string | null | undefined {
  if (value === '') return null;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && value >= '1000-01-01' ? value : undefined;
}

@injectable()
export class PortalUserRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(Translator) private readonly translator: Translator,
    @inject(PortalUserSettings) private readonly settings: PortalUserSettings,
    @inject(PortalUserSection) private readonly section: PortalUserSection,
    @inject(PluginSettings) private readonly plugin: PluginSettings,
    @inject(HostRegional) private readonly regional: HostRegional,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.post(PORTAL_USER_PATH, (req, res) => this.save(req, res));
  }

  /** A 400 naming the fields that could not be read, with the form shown again as typed. */
  private async refuseFields(req: Request, res: Response, contactId: number, body: unknown, fields: readonly PortalUserField[]): Promise<void> {
    const language = this.pages.language(res);
    const labels = fields.map((field) => this.translator.t(language, FIELD_LABELS[field]));
    const text = labels.length > 0 ? this.translator.t(language, 'contacts.portalUser.invalidFields', { fields: labels.join(', ') }) : this.translator.t(language, 'errors.badRequest');
    await this.answer(req, res, contactId, 400, { error: true, text }, { typed: typedValues(body), fields: [...fields] });
  }

  private async save(req: Request, res: Response): Promise<void> {
    const idText = String(req.params.id);
    if (!/^[1-9][0-9]{0,8}$/.test(idText)) {
      await this.pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'errors.notFound');
      return;
    }
    const contactId = Number(idText);
    const language = this.pages.language(res);
    const body: unknown = req.body ?? {};
    if (!validateForm(body)) {
      const named = [...new Set((validateForm.errors ?? []).map((error) => error.instancePath.slice(1) || String(error.params.additionalProperty ?? error.params.missingProperty ?? '')))];
      await this.refuseFields(req, res, contactId, body, named.filter(isFormField));
      return;
    }
    const start = calendarDay(body.supportStartDate);
    const end = calendarDay(body.supportEndDate);
    if (start === undefined || end === undefined) {
      const fields = [start === undefined ? 'supportStartDate' : null, end === undefined ? 'supportEndDate' : null].filter((field): field is PortalUserField => field !== null);
      await this.refuseFields(req, res, contactId, body, fields);
      return;
    }
    const admin = crmSessionOf(res)!.user;
    const outcome = await this.settings.save(
      contactId,
      {
        portalUser: body.portalUser === 'yes',
        profileId: body.profileId ? Number(body.profileId) : null,
        supportStartDate: start,
        supportEndDate: end,
        expectedVersion: Number(body.version),
      },
      admin,
    );
    if (outcome.ok) {
      await this.answer(req, res, contactId, 200, this.describe(outcome, language));
      return;
    }
    const refusal = REFUSALS[outcome.reason];
    const retry = refusal.retry ? { typed: typedValues(body), fields: refusal.field ? [refusal.field] : [] } : undefined;
    await this.answer(req, res, contactId, refusal.status, this.describe(outcome, language), retry);
  }

  private describe(outcome: PortalUserOutcome, language: string): { error: boolean; text: string } {
    if (!outcome.ok) {
      // A day already past is past in the CRM's time zone: an admin elsewhere (an evening in Los
      // Angeles, the next day in Rome) is told which day is today there.
      const zone = this.regional.timeZone();
      const today = outcome.reason === 'end_in_past' ? formatSupportDay(todayIn(zone), language) : '';
      return { error: true, text: this.translator.t(language, REFUSALS[outcome.reason].key, { email: outcome.email ?? '', zone, today }) };
    }
    const email = outcome.email ?? '';
    switch (outcome.change) {
      case 'enabled':
        if (outcome.notSent) return { error: true, text: this.translator.t(language, NOT_SENT[outcome.notSent], { email }) };
        if (outcome.keptForRetry) return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.enabledKeptForRetry', { email }) };
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.enabled', { email }) };
      case 'disabled':
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.disabled') };
      case 'updated':
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.updated') };
      default:
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.unchanged') };
    }
  }

  /** The answer page; with `retry`, the form again holding what the admin typed and the refusal beside it. */
  private async answer(
    req: Request,
    res: Response,
    contactId: number,
    status: number,
    notice: { error: boolean; text: string },
    retry?: Pick<PortalUserRetry, 'typed' | 'fields'>,
  ): Promise<void> {
    const contactUrl = contactPageOf(contactId);
    const formHtml = retry
      ? await this.section.retryForm(contactId, crmSessionOf(res)!, this.pages.language(res), { ...retry, message: notice.text, contactUrl })
      : null;
    await this.pages.send(req, res, {
      template: 'admin/contact-portal-user-saved',
      titleKey: 'contacts.portalUser.savedTitle',
      status,
      // The answer in the title too (a status at load is not announced); the form again keeps its title and focused field.
      notice: formHtml ? null : notice.text,
      refused: formHtml !== null,
      data: { notice, contactUrl, formHtml, stylesheet: contactBlockStylesheet(this.plugin.portalPath) },
    });
  }
}
