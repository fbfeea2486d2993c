/**
 * A module's records: view, create, edit and delete as the profile allows.
 *
 *   GET  /m/:module/new          the new record's form          POST: create
 *   GET  /m/:module/:id          the record (`RecordDetailPage`)
 *   GET  /m/:module/:id/edit     the edit form                  POST: update (optimistic locking)
 *   GET  /m/:module/:id/delete   "delete this record?"          POST: delete
 *
 * Every field comes from the access layer with its state on this record (rules applied):
 * read-only fields are shown, not editable; mandatory ones are marked; problems the server
 * finds are shown next to their field, in the customer's language, and the form keeps what
 * was typed. A stale version (someone changed the record meanwhile) is said, never overwritten.
 */
import type { Router } from 'express';
import { inject, injectable } from 'inversify';
import { AccessError, type AccessProblem } from '../../access/access-errors.js';
import type { PortalField, PortalRecordView } from '../../access/portal-access.js';
import type { FieldValue } from '../../host-contract/index.js';
import { portalFormBody } from '../../http/json-body.js';
import type { MessageKey } from '../../i18n/message-keys.js';
import type { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { instantOf, wallClockOf, wallTime } from '../../access/wall-clock.js';
import { formControl, zoneName, type FormControl } from './field-display.js';
import { formatCount, showValue } from '../../i18n/field-values.js';
import { listParam, listQueryFrom, RecordDetailPage } from './record-detail.js';
import { WorkspaceFrame, formDoneAt, idParam, moduleParam, type FormDone, type WorkspaceRequest } from './workspace-frame.js';

/** Form fields that are not record fields. */
const FORM_CONTROLS = new Set(['_csrf', '_once', 'version', '_booleans']);

/** A problem of a form: one the access layer finds, or a time the CRM's clocks skip (found here, where wall times are read). */
type FormProblem = { readonly field: string; readonly code: AccessProblem['code'] | 'nonexistent-time' } & Pick<AccessProblem, 'expected' | 'max'>;

const PROBLEM_KEYS: Readonly<Record<FormProblem['code'], MessageKey>> = {
  required: 'records.problems.required',
  'not-writable': 'records.problems.notWritable',
  'invalid-value': 'records.problems.invalidValue',
  'unknown-field': 'records.problems.unknownField',
  'not-in-scope': 'records.problems.notInScope',
  'nonexistent-time': 'records.problems.nonexistentTime',
};

/**
 * What a form's error says, beyond its code, where the browser's own check lets the value through:
 * a text longer than its field takes (pasted past `maxlength` in an old browser, a textarea's line
 * breaks sent as two characters), an email address without a dot in its domain (`name@example`,
 * which the browser's email box takes), a web address of another scheme (`ftp:`, which the browser's
 * URL box takes). Other forms (numbers, dates, times) are the browser's own boxes: the code's message.
 */
function problemMessage(w: WorkspaceRequest, problem: FormProblem, zone: { readonly zone: string }): string {
  if (problem.max !== undefined) return w.t('records.problems.tooLong', { max: formatCount(problem.max, w.language) });
  if (problem.expected === 'email' || problem.expected === 'url') return w.t(`records.problems.${problem.expected}`);
  return w.t(PROBLEM_KEYS[problem.code], zone);
}

type Typed = Record<string, string | string[]>;

@injectable()
export class RecordPages implements PortalRouteContribution {
  constructor(
    @inject(WorkspaceFrame) private readonly frame: WorkspaceFrame,
    @inject(RecordDetailPage) private readonly detail: RecordDetailPage,
  ) {}

  registerPortalRoutes(router: Router): void {
    const form = portalFormBody();
    router.get('/m/:module/new', this.frame.page((w) => this.newForm(w)));
    // A form sent twice (a double tap, a reload that resends) does its work once.
    router.post('/m/:module/new', form, this.frame.post(this.frame.once((w) => this.create(w))));
    router.get('/m/:module/:id', this.frame.page((w) => this.view(w)));
    router.get('/m/:module/:id/edit', this.frame.page((w) => this.editForm(w)));
    router.post('/m/:module/:id/edit', form, this.frame.post(this.frame.once((w) => this.update(w))));
    router.get('/m/:module/:id/delete', this.frame.page((w) => this.deletePage(w)));
    router.post('/m/:module/:id/delete', form, this.frame.post(this.frame.once((w) => this.remove(w))));
  }

  /** The record's page: its fields, and the comments and documents its module's tools allow. */
  private async view(w: WorkspaceRequest): Promise<void> {
    const name = moduleParam(w);
    const record = await w.access.record(name, idParam(w));
    await this.detail.render(w, record);
  }

  // ─────────────────────────────────── forms ───────────────────────────────────

  /** The typed fields of a form post: text values, and lists for multi-selects. */
  private typedOf(w: WorkspaceRequest): Typed {
    const body = (w.req.body ?? {}) as Record<string, unknown>;
    const typed: Typed = {};
    for (const [key, value] of Object.entries(body)) {
      if (FORM_CONTROLS.has(key) || !/^[a-z][a-z0-9_]{0,63}$/.test(key)) continue;
      if (typeof value === 'string') typed[key] = value;
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) typed[key] = value as string[];
    }
    // Unchecked checkboxes send nothing: the form lists its booleans so that "unchecked" means false.
    const booleans = typeof body._booleans === 'string' ? body._booleans.split(',') : [];
    for (const name of booleans) if (/^[a-z][a-z0-9_]{0,63}$/.test(name) && !(name in typed)) typed[name] = 'false';
    return typed;
  }

  /**
   * What goes to the access layer: only the fields this form offers for writing. A datetime box
   * holds the CRM's wall clock (`instantOf`): a time its clocks skip is a problem found here. A box
   * that still reads what the form showed for the stored instant keeps that instant, to the
   * millisecond (the box shows no milliseconds, and 02:30 of the night the clocks go back is two
   * instants): a form saved unchanged changes nothing.
   */
  private inputOf(fields: readonly Pick<PortalField, 'name' | 'type'>[], typed: Typed, timeZone: string, stored: PortalRecordView | null): { input: Record<string, unknown>; problems: FormProblem[] } {
    const input: Record<string, unknown> = {};
    const problems: FormProblem[] = [];
    for (const [name, value] of Object.entries(typed)) {
      const field = fields.find((f) => f.name === name);
      input[name] = value;
      if (field?.type !== 'datetime' || typeof value !== 'string') continue;
      const before = stored?.values[name];
      const shown = typeof before === 'string' ? wallClockOf(before, timeZone) : null;
      const wall = wallTime(value.trim());
      if (shown !== null && wall !== null && wall === wallTime(shown)) input[name] = before;
      else if (wall !== null) {
        const read = instantOf(value.trim(), timeZone);
        if (read.ok) input[name] = read.instant;
        else problems.push({ field: name, code: 'nonexistent-time' });
      }
    }
    return { input, problems };
  }

  private async referenceOptions(w: WorkspaceRequest, fields: readonly PortalField[]): Promise<Map<string, { value: string; label: string }[]>> {
    const options = new Map<string, { value: string; label: string }[]>();
    for (const field of fields) {
      const target = field.referenceModule;
      if (field.type !== 'reference' || field.access !== 'readwrite' || !target || !w.access.modules.some((m) => m.name === target && m.view)) continue;
      const list = await w.access.list(target, { pageSize: 100, sort: { field: 'modifiedAt', direction: 'desc' } });
      options.set(field.name, list.rows.map((r) => ({ value: String(r.id), label: r.label })));
    }
    return options;
  }

  private async controls(
    w: WorkspaceRequest,
    fields: readonly PortalField[],
    values: Readonly<Record<string, unknown>>,
    record: PortalRecordView | null,
    problems: readonly FormProblem[],
  ): Promise<FormControl[]> {
    const display = this.frame.display(w);
    const references = await this.referenceOptions(w, fields);
    const zone = { zone: zoneName(display.timeZone, w.language) };
    const zoneHint = fields.some((f) => f.type === 'datetime') ? w.t('records.timeZoneHint', zone) : undefined;
    return fields.map((field) => {
      const problem = problems.find((p) => p.field === field.name);
      const shown = showValue(field, (record?.values[field.name] ?? values[field.name] ?? null) as FieldValue, record?.references[field.name], display);
      return formControl(field, values[field.name], shown, problem ? problemMessage(w, problem, zone) : undefined, references.get(field.name), display.timeZone, zoneHint);
    });
  }

  private async sendForm(
    w: WorkspaceRequest,
    name: string,
    page: { record: PortalRecordView | null; fields: readonly PortalField[]; values: Readonly<Record<string, unknown>>; problems?: readonly FormProblem[]; error?: string | null; status?: number; version?: number; notice?: string | null },
  ): Promise<void> {
    const problems = page.problems ?? [];
    const editing = page.record !== null;
    // A new record's read-only fields have no value yet (the CRM fills them): not worth a row.
    const controls = (await this.controls(w, page.fields, page.values, page.record, problems)).filter((c) => editing || !c.readOnly || !c.shown?.empty);
    const onForm = new Set(page.fields.filter((f) => f.access === 'readwrite').map((f) => f.name));
    const stray = problems.filter((p) => !onForm.has(p.field));
    const firstRefused = controls.findIndex((c) => c.error && !c.readOnly);
    const singular = this.frame.singularLabel(w, name);
    // An edit carries the list the record was opened from, through its redirect, back to the record.
    const back = listParam(w.req, '?');
    const title = editing ? w.t('records.editTitle', { label: page.record!.label }) : w.access.policy.source.version === 1 && name === 'HelpDesk' ? w.t('portal.menu.newRequest') : w.t('records.newTitle', { item: singular });
    const error = page.error ?? (problems.length > 0 ? w.t(stray.length > 0 ? 'records.problems.notOnForm' : 'records.problems.summary', { count: problems.length }) : null);
    this.frame.send(w, {
      template: 'record-form',
      title,
      module: name,
      ...(!editing && w.access.policy.source.version === 1 && name === 'HelpDesk' ? { entry: 'new-request' } : {}),
      status: page.status ?? (problems.length > 0 ? 422 : 200),
      refused: error !== null,
      ...(page.notice ? { notice: page.notice } : {}),
      data: {
        heading: title,
        action: editing ? this.frame.recordPath(name, page.record!.id, `/edit${back}`) : this.frame.path(`/m/${name}/new`),
        cancelHref: editing ? this.frame.recordPath(name, page.record!.id, back) : w.access.module(name).view ? this.frame.path(`/m/${name}`) : this.frame.path('/'),
        version: editing ? String(page.version ?? page.record!.version) : null,
        // After a refusal the first field it names has the focus (the summary above is announced).
        controls: controls.map((c, index) => ({
          ...c,
          focus: index === firstRefused,
          isCheckbox: c.control === 'checkbox',
          isTextarea: c.control === 'textarea',
          isSelect: c.control === 'select',
        })),
        booleans: page.fields.filter((f) => f.type === 'boolean' && f.access === 'readwrite').map((f) => f.name).join(','),
        hasMandatory: controls.some((c) => c.mandatory),
        error,
        submitLabel: w.t(editing ? 'records.save' : 'records.create'),
      },
    });
  }

  private async newForm(w: WorkspaceRequest): Promise<void> {
    const name = moduleParam(w);
    const fields = await w.access.formFields(name, {});
    // A new record's form sent again where the customer may not open what it made: said here, above a fresh form.
    await this.sendForm(w, name, { record: null, fields, values: {}, notice: w.req.query.notice === 'again' ? w.t('records.sentAgain') : null });
  }

  private async create(w: WorkspaceRequest): Promise<FormDone | void> {
    const name = moduleParam(w);
    const typed = this.typedOf(w);
    const timeZone = this.frame.display(w).timeZone;
    // The rules judge the form as the save would store it: a datetime box's wall clock as its
    // instant, and a time the clocks skip as no value.
    const read = this.inputOf(w.access.module(name).fields, typed, timeZone, null);
    const judged = Object.fromEntries(Object.entries(read.input).filter(([field]) => !read.problems.some((p) => p.field === field)));
    const fields = await w.access.formFields(name, judged as Record<string, FieldValue>);
    const { input, problems } = this.inputOf(fields, typed, timeZone, null);
    if (problems.length > 0) return this.sendForm(w, name, { record: null, fields, values: typed, problems });
    try {
      const record = await w.access.create(name, input);
      if (w.access.module(name).view) return formDoneAt(this.frame.recordPath(name, record.id), 'created');
      this.frame.send(w, { template: 'workspace-message', title: w.t('records.created'), module: name, data: { heading: w.t('records.created'), message: record.label } });
      return { location: null, again: this.frame.path(`/m/${name}/new?notice=again`) };
    } catch (error) {
      if (!(error instanceof AccessError) || error.kind !== 'invalid') throw error;
      await this.sendForm(w, name, { record: null, fields, values: typed, problems: error.problems });
    }
  }

  private async editable(w: WorkspaceRequest): Promise<{ name: string; record: PortalRecordView }> {
    const name = moduleParam(w);
    const record = await w.access.record(name, idParam(w));
    if (!record.editable) throw new AccessError('not-allowed');
    return { name, record };
  }

  private async editForm(w: WorkspaceRequest): Promise<void> {
    const { name, record } = await this.editable(w);
    await this.sendForm(w, name, { record, fields: record.fields, values: record.values });
  }

  private async update(w: WorkspaceRequest): Promise<FormDone | void> {
    const { name, record } = await this.editable(w);
    const typed = this.typedOf(w);
    const version = Number.parseInt(String((w.req.body as Record<string, unknown>)?.version ?? ''), 10);
    const { input, problems } = this.inputOf(record.fields, typed, this.frame.display(w).timeZone, record);
    if (problems.length > 0) return this.sendForm(w, name, { record, fields: record.fields, values: typed, problems, version });
    try {
      await w.access.update(name, record.id, input, Number.isSafeInteger(version) ? version : record.version);
      return formDoneAt(this.frame.recordPath(name, record.id), 'saved', listParam(w.req, '&'));
    } catch (error) {
      if (!(error instanceof AccessError)) throw error;
      if (error.kind === 'invalid') return this.sendForm(w, name, { record, fields: record.fields, values: typed, problems: error.problems, version });
      if (error.kind === 'stale') return this.sendForm(w, name, { record, fields: record.fields, values: typed, error: w.t('records.stale'), status: 409, version });
      throw error;
    }
  }

  private async deletable(w: WorkspaceRequest): Promise<{ name: string; record: PortalRecordView }> {
    const name = moduleParam(w);
    const record = await w.access.record(name, idParam(w));
    if (!record.deletable) throw new AccessError('not-allowed');
    return { name, record };
  }

  private async deletePage(w: WorkspaceRequest): Promise<void> {
    const { name, record } = await this.deletable(w);
    this.frame.send(w, {
      template: 'record-delete',
      title: w.t('records.deleteTitle', { label: record.label }),
      module: name,
      data: {
        heading: w.t('records.deleteTitle', { label: record.label }),
        action: this.frame.recordPath(name, record.id, `/delete${listParam(w.req, '?')}`),
        version: String(record.version),
        cancelHref: this.frame.recordPath(name, record.id, listParam(w.req, '?')),
      },
    });
  }

  private async remove(w: WorkspaceRequest): Promise<FormDone | void> {
    const { name, record } = await this.deletable(w);
    const version = Number.parseInt(String((w.req.body as Record<string, unknown>)?.version ?? ''), 10);
    try {
      await w.access.remove(name, record.id, Number.isSafeInteger(version) ? version : record.version);
    } catch (error) {
      if (error instanceof AccessError && error.kind === 'stale') {
        return this.frame.send(w, { template: 'workspace-message', title: w.t('records.staleTitle'), module: name, status: 409, refused: true, data: { heading: w.t('records.staleTitle'), message: w.t('records.stale'), backHref: this.frame.recordPath(name, record.id), backLabel: w.t('records.backToRecord') } });
      }
      throw error;
    }
    // Back to the list as the customer left it (a page past the new end goes to the last one).
    const list = listQueryFrom(w.req.query.list);
    const at = this.frame.path(`/m/${name}?${list === '' ? '' : `${list}&`}`);
    return { location: `${at}notice=deleted`, again: `${at}notice=alreadyDeleted` };
  }
}
