/**
 * The form of the Contact record's portal-user section posts here, on the admin router (so for
 * active CRM admins only, with the CSRF token of their CRM session — anyone else is refused
 * before this runs):
 *
 *   POST {settingsPath}/contacts/:id/portal-user
 *        portalUser=yes|no, profileId (version 2 only), supportStartDate, supportEndDate (YYYY-MM-DD or empty),
 *        version (of the account the form showed)
 *
 * The answer is a page in the admin's language saying what happened (access details sent to…,
 * portal user switched off…) or why nothing was saved, with a link back to the contact:
 * 200 saved, 400 malformed form, 404 no such contact, 409 changed by someone else meanwhile,
 * 422 refused (no email, an email that is another portal user's login, end date past or before
 * the start, unknown profile, a profile chosen on version 1).
 */
import type { Request, Response, Router } from 'express';
import { Ajv, type JSONSchemaType } from 'ajv';
import { inject, injectable } from 'inversify';
import { AdminPages, crmSessionOf } from '../http/admin-pages.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import type { AdminRouteContribution } from '../lifecycle/contributions.js';
import { PortalUserSettings, type PortalUserOutcome, type PortalUserRefusal } from './portal-user-settings.js';

export const PORTAL_USER_PATH = '/contacts/:id/portal-user';

export function portalUserAction(settingsPath: string, contactId: number): string {
  return `${settingsPath}/contacts/${contactId}/portal-user`;
}

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
const FIELD_LABELS: Readonly<Record<string, MessageKey>> = {
  portalUser: 'contacts.portalUser.portalUser',
  profileId: 'contacts.portalUser.profile',
  supportStartDate: 'contacts.portalUser.supportStart',
  supportEndDate: 'contacts.portalUser.supportEnd',
};

const REFUSALS: Readonly<Record<PortalUserRefusal, { readonly status: number; readonly key: MessageKey }>> = {
  contact_missing: { status: 404, key: 'contacts.portalUser.refused.contactMissing' },
  no_email: { status: 422, key: 'contacts.portalUser.refused.noEmail' },
  email_in_use: { status: 422, key: 'contacts.portalUser.refused.emailInUse' },
  end_in_past: { status: 422, key: 'contacts.portalUser.refused.endInPast' },
  end_before_start: { status: 422, key: 'contacts.portalUser.refused.endBeforeStart' },
  unknown_profile: { status: 422, key: 'contacts.portalUser.refused.unknownProfile' },
  profile_on_v1: { status: 422, key: 'contacts.portalUser.refused.profileOnVersion1' },
  stale: { status: 409, key: 'contacts.portalUser.refused.stale' },
};

/** A real calendar day (the pattern lets 2026-02-31 through). */
function calendarDay(value: string): string | null | undefined {
  if (value === '') return null;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value ? value : undefined;
}

@injectable()
export class PortalUserRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(Translator) private readonly translator: Translator,
    @inject(PortalUserSettings) private readonly settings: PortalUserSettings,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.post(PORTAL_USER_PATH, (req, res) => this.save(req, res));
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
      const fields = [...new Set((validateForm.errors ?? []).map((error) => error.instancePath.slice(1) || String(error.params.additionalProperty ?? error.params.missingProperty ?? '')))];
      const labels = fields.map((field) => (FIELD_LABELS[field] ? this.translator.t(language, FIELD_LABELS[field]) : null)).filter((label) => label !== null);
      await this.answer(req, res, contactId, 400, {
        error: true,
        text: labels.length > 0 ? this.translator.t(language, 'contacts.portalUser.invalidFields', { fields: labels.join(', ') }) : this.translator.t(language, 'errors.badRequest'),
      });
      return;
    }
    const start = calendarDay(body.supportStartDate);
    const end = calendarDay(body.supportEndDate);
    if (start === undefined || end === undefined) {
      const labels = [start === undefined ? 'contacts.portalUser.supportStart' : null, end === undefined ? 'contacts.portalUser.supportEnd' : null]
        .filter((key): key is MessageKey => key !== null)
        .map((key) => this.translator.t(language, key));
      await this.answer(req, res, contactId, 400, { error: true, text: this.translator.t(language, 'contacts.portalUser.invalidFields', { fields: labels.join(', ') }) });
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
    await this.answer(req, res, contactId, outcome.ok ? 200 : REFUSALS[outcome.reason].status, this.describe(outcome, language));
  }

  private describe(outcome: PortalUserOutcome, language: string): { error: boolean; text: string } {
    if (!outcome.ok) return { error: true, text: this.translator.t(language, REFUSALS[outcome.reason].key, { email: outcome.email ?? '' }) };
    const email = outcome.email ?? '';
    switch (outcome.change) {
      case 'enabled':
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.enabled', { email }) };
      case 'disabled':
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.disabled') };
      case 'updated':
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.updated') };
      default:
        return { error: false, text: this.translator.t(language, 'contacts.portalUser.saved.unchanged') };
    }
  }

  private async answer(req: Request, res: Response, contactId: number, status: number, notice: { error: boolean; text: string }): Promise<void> {
    await this.pages.send(req, res, {
      template: 'admin/contact-portal-user-saved',
      titleKey: 'contacts.portalUser.savedTitle',
      status,
      data: { notice, contactUrl: contactPageOf(contactId) },
    });
  }
}
