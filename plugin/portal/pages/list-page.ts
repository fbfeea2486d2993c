/**
 * A module's list: `GET /m/:module` and its CSV export `GET /m/:module/export.csv`.
 *
 * Only the profile's list columns (the access layer gives no other), per-column search inputs
 * and picklist selects (several at once), a general search box (with the search tool), sorting
 * by a column header (`aria-sort`; on a phone, where rows are cards, by a select), paging with the total, an export link when allowed and an
 * empty state. It is one GET form: it works without JavaScript. Query parameters: `q` (general
 * search), `f_<field>` (column search), `sort`, `dir` (`asc` / `desc`), `page` (past the last
 * page: redirected to the last).
 */
import type { Request, Router } from 'express';
import { inject, injectable } from 'inversify';
import { clipped, isDateOnly } from '../../access/field-input.js';
import { AccessError } from '../../access/access-errors.js';
import { labelOf, type ListRequest, type ListView, type PortalField, type PortalRow } from '../../access/portal-access.js';
import type { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { CSV_BOM, csvCell, csvFormatFor, csvLine, csvRow, listExportDisposition, writeChunk } from '../api/csv-export.js';
import { formatCount, optionText, showValue } from '../../i18n/field-values.js';
import { WorkspaceFrame, moduleParam, type WorkspaceRequest } from './workspace-frame.js';

export interface ListQuery {
  readonly search: string;
  readonly filters: Record<string, string>;
  readonly sort?: { field: string; direction: 'asc' | 'desc' };
  readonly page: number;
}

/** The list's query parameters; odd shapes (arrays, huge values) are dropped, not errors. */
export function listQueryOf(req: Request): ListQuery {
  const query = req.query as Record<string, unknown>;
  const text = (value: unknown): string => (typeof value === 'string' ? clipped(value, 200) : '');
  // Gathered as entries, then made own properties: `filters['__proto__'] = …` would set the
  // object's prototype instead, and `f___proto__` would vanish rather than be named as left out.
  const typedFilters: [string, string][] = [];
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('f_') || typedFilters.length >= 50) continue;
    const typed = text(value).trim();
    if (typed !== '') typedFilters.push([key.slice(2), typed]);
  }
  const filters: Record<string, string> = Object.fromEntries(typedFilters);
  const sortField = text(query.sort);
  const page = Number.parseInt(text(query.page), 10);
  return {
    search: text(query.q).trim(),
    filters,
    ...(sortField !== '' ? { sort: { field: sortField, direction: text(query.dir) === 'asc' ? 'asc' : 'desc' } } : {}),
    page: Number.isSafeInteger(page) && page > 0 ? page : 1,
  };
}

const NUMBER_TYPES = new Set(['integer', 'decimal', 'currency']);

/**
 * A number typed in the customer's language, in the form the access layer reads (`1250.5`):
 * Italian `1.250,50` or `1250,5`, English `1,250.50`. Anything else is left as typed, for the
 * access layer's strict check to refuse.
 */
export function numberAsTyped(text: string, language: string): string {
  const decimal = new Intl.NumberFormat(language).formatToParts(1.5).find((p) => p.type === 'decimal')?.value === ',' ? ',' : '.';
  const group = decimal === ',' ? '.' : ',';
  const compact = text.replace(/\s/g, '');
  const escape = (c: string) => `\\${c}`;
  if (!new RegExp(`^-?(\\d{1,3}(${escape(group)}\\d{3})+|\\d+)(${escape(decimal)}\\d+)?$`).test(compact)) return text;
  return compact.split(group).join('').replace(decimal, '.');
}

export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** Whether a refused list was refused for its column searches alone: a value a column cannot hold, a field it cannot search by. */
function refusedByFilter(error: AccessError, filters: Readonly<Record<string, string>>): boolean {
  return error.problems.length > 0 && error.problems.every((p) => p.field in filters && (p.code === 'invalid-value' || p.code === 'unknown-field'));
}

/** Whether a date box (`<input type="date">`) holds `value`: a day of the calendar, `YYYY-MM-DD`, from year 1. */
function isDayBox(value: string): boolean {
  return isDateOnly(value) && value >= '0001-01-01';
}

@injectable()
export class ListPage implements PortalRouteContribution {
  constructor(@inject(WorkspaceFrame) private readonly frame: WorkspaceFrame) {}

  registerPortalRoutes(router: Router): void {
    router.get('/m/:module/export.csv', this.frame.page((w) => this.exportCsv(w)));
    router.get('/m/:module', this.frame.page((w) => this.list(w)));
  }

  /** The column searches as the access layer reads them: numbers as the customer's language writes them (`1.250,50`). */
  private filtersRead(w: WorkspaceRequest, name: string, query: ListQuery): Record<string, string> {
    const typeOf = (field: string) => w.access.module(name).fields.find((f) => f.name === field)?.type;
    return Object.fromEntries(Object.entries(query.filters).map(([f, v]) => [f, NUMBER_TYPES.has(typeOf(f) ?? '') ? numberAsTyped(v, w.language) : v]));
  }

  private request(query: ListQuery): ListRequest {
    return { search: query.search, filters: query.filters, ...(query.sort ? { sort: query.sort } : {}), page: query.page, wallClock: true };
  }

  private async list(w: WorkspaceRequest): Promise<void> {
    const name = moduleParam(w);
    const module = w.access.module(name);
    if (!module.view) {
      if (module.create) return w.res.redirect(303, this.frame.path(`/m/${name}/new`));
      throw new AccessError('not-found');
    }
    const query = listQueryOf(w.req);
    // Numbers as the customer's language writes them; the boxes keep what was typed.
    const filters = this.filtersRead(w, name, query);
    let view: ListView;
    let problem: string | null = null;
    let unreadable: string[] = [];
    // Column searches the list cannot do (a hand-typed `f_` of a hidden field, of one that does not
    // exist, of one some rule hides): left out, named as typed, the same for each (README).
    let leftOut: string[] = [];
    try {
      view = await w.access.list(name, this.request({ ...query, filters }));
    } catch (error) {
      if (!(error instanceof AccessError) || (error.kind !== 'invalid' && error.kind !== 'not-allowed')) throw error;
      // Only the column searches refused (a value a column cannot hold, a column some rule hides):
      // the list searched by the other columns, and which value to type again how.
      const byFilter = error.kind === 'invalid' && refusedByFilter(error, filters);
      unreadable = byFilter ? error.problems.filter((p) => p.code === 'invalid-value').map((p) => p.field) : [];
      leftOut = byFilter ? error.problems.filter((p) => p.code === 'unknown-field').map((p) => p.field) : [];
      const others = Object.fromEntries(Object.entries(filters).filter(([f]) => !unreadable.includes(f) && !leftOut.includes(f)));
      view = byFilter
        ? await w.access.list(name, this.request({ ...query, filters: others, page: 1 })).catch((again: unknown) => {
            if (again instanceof AccessError) return w.access.list(name, { page: 1 });
            throw again;
          })
        : await w.access.list(name, { page: 1 });
      // A search or sort the profile does not allow (a hidden sort field, no search tool): the plain list, and why.
      problem = byFilter ? null : w.t('portal.list.searchRefused');
    }
    if (problem === null && (unreadable.length > 0 || leftOut.length > 0)) {
      problem = [
        ...(leftOut.length > 0 ? [w.t('portal.list.notSearchable', { fields: leftOut.map((f) => `“${clipped(f, 64)}”`).join(', ') })] : []),
        ...unreadable.map((f) => this.unreadableHint(w, view.columns.find((c) => c.name === f), f)),
      ].join(' ');
    }
    const hasSearch = w.access.hasTool(name, 'search');
    const canExport = w.access.hasTool(name, 'export');
    const base = this.frame.path(`/m/${name}`);
    const kept = {
      q: view.search,
      ...Object.fromEntries(Object.entries(view.filters).map(([f, v]) => [`f_${f}`, v])),
    };
    const sortParams = { sort: view.sort.field, dir: view.sort.direction };
    const lastPage = Math.max(1, Math.ceil(view.total / view.pageSize));
    // A page past the last (a shorter list since, a typed URL): the last page, at its own address.
    if (!problem && view.page > lastPage) {
      return w.res.redirect(303, `${base}${queryString({ ...kept, ...(query.sort ? sortParams : {}), ...(lastPage > 1 ? { page: lastPage } : {}) })}`);
    }
    const options = { ...this.frame.display(w), module: name };
    // The first column that could not be searched has the focus, to be typed again.
    const firstUnreadable = view.columns.find((c) => unreadable.includes(c.name))?.name;
    const columns = view.columns.map((column: PortalField) => {
      const sorted = view.sort.field === column.name;
      const direction = sorted && view.sort.direction === 'asc' ? 'desc' : 'asc';
      // What the customer typed, read or not, stays in its box.
      const filterValue = query.filters[column.name] ?? '';
      const select = column.type === 'picklist' && column.options !== undefined;
      // A column some rule hides on some rows is neither sorted nor searched (the access layer says which are).
      const open = view.searchable.includes(column.name);
      return {
        name: column.name,
        label: column.label,
        sortHref: open ? `${base}${queryString({ ...kept, sort: column.name, dir: direction })}` : null,
        ariaSort: sorted ? (view.sort.direction === 'asc' ? 'ascending' : 'descending') : 'none',
        sortHint: w.t(direction === 'asc' ? 'portal.list.sortAscending' : 'portal.list.sortDescending', { column: column.label }),
        sorted,
        ascending: sorted && view.sort.direction === 'asc',
        filter: {
          id: `bp-filter-${column.name}`,
          name: `f_${column.name}`,
          label: w.t('portal.list.searchColumn', { column: column.label }),
          value: filterValue,
          select,
          options: select ? (column.filterOptions ?? column.options ?? []).map((o) => ({ value: o, label: optionText(column, o), selected: o === filterValue })) : [],
          searchable: open && column.type !== 'boolean' && column.type !== 'reference',
          // The browser then offers the right form: a date picker, a keyboard for numbers.
          // A datetime column is searched by its day (in the CRM's time zone). A date box holds
          // nothing but a day: a date and time searched (a link, a typed address) or a value the
          // list could not read is shown in a text box, or the browser would empty the box and the
          // next search of the list would drop it without a word.
          inputType: (column.type === 'date' || column.type === 'datetime') && (filterValue === '' || isDayBox(filterValue)) ? 'date' : 'search',
          inputMode: column.type === 'integer' ? 'numeric' : NUMBER_TYPES.has(column.type) ? 'decimal' : null,
          invalid: unreadable.includes(column.name),
          focus: column.name === firstUnreadable,
        },
      };
    });
    // A record opened from here comes back to the list as it is now (its page's "Return to list").
    const here = queryString({ ...kept, ...(query.sort ? sortParams : {}), ...(view.page > 1 ? { page: view.page } : {}) }).slice(1);
    const fromHere = here === '' ? '' : `?list=${encodeURIComponent(here)}`;
    const rows = view.rows.map((row) => ({
      href: `${base}/${row.id}${fromHere}`,
      label: row.label,
      // Each cell says its column's name (data-label): a phone shows the rows as cards, label beside value.
      cells: view.columns.map((column, index) => ({ first: index === 0, column: column.label, shown: showValue(column, row.values[column.name], row.references[column.name], options) })),
    }));
    const from = view.total === 0 ? 0 : (view.page - 1) * view.pageSize + 1;
    const to = Math.min(view.page * view.pageSize, view.total);
    const filtered = view.search !== '' || Object.keys(view.filters).length > 0 || Object.keys(query.filters).length > 0;
    // On a phone the column filters fold under one toggle, open when one is set (or refused): the first
    // card then comes right after the search. A desktop shows them in the table's row as ever.
    const searchableFilters = columns.filter((c) => c.filter.searchable);
    const activeFilters = searchableFilters.filter((c) => c.filter.value !== '').length;
    const title = this.title(w, name);
    const classicRequests = w.access.policy.source.version === 1 && name === 'HelpDesk';
    this.frame.send(w, {
      template: 'list',
      title,
      module: name,
      status: problem ? 400 : 200,
      // A search or sort the list refused: the title says so first, as a refused form's does.
      refused: problem !== null,
      // `alreadyDeleted`: the delete's form sent again (done once, see WorkspaceFrame.once).
      notice: w.req.query.notice === 'deleted' ? w.t('records.deleted') : w.req.query.notice === 'alreadyDeleted' ? w.t('records.alreadyDeleted') : null,
      data: {
        title,
        module: name,
        base,
        columns,
        rows,
        problem,
        hasSearch,
        search: view.search,
        // The sort as a phone offers it (its table has no header row): the columns the header could
        // sort by, and the record's last change (the list's own order) to go back to.
        sortOptions: this.sortOptions(w, view, columns),
        sortAscending: view.sort.direction === 'asc',
        hasForm: hasSearch || columns.some((c) => c.sortHref !== null),
        filtered,
        hasFilters: hasSearch && searchableFilters.length > 0,
        filtersOpen: activeFilters > 0 || searchableFilters.some((c) => c.filter.invalid),
        filtersLabel: activeFilters > 0 ? w.t('portal.list.filtersActive', { count: activeFilters }) : w.t('portal.list.filters'),
        clearHref: `${base}${queryString(sortParams)}`,
        canCreate: module.create && name !== 'Accounts',
        newHref: `${base}/new`,
        // Version 1's requests: "New request", as its menu and the form say.
        newLabel: classicRequests ? w.t('portal.menu.newRequest') : w.t('portal.list.new', { item: this.frame.singularLabel(w, name) }),
        // An empty list's sentence: version 1's requests in their menu's words ("You have no requests yet.").
        emptyText: w.t(classicRequests ? (filtered ? 'portal.list.requestsNoMatch' : 'portal.list.requestsEmpty') : filtered ? 'portal.list.noMatch' : 'portal.list.empty'),
        exportHref: canExport ? `${base}/export.csv${queryString({ ...kept, ...sortParams })}` : null,
        // An empty list (or a search that matched nothing) has no range to sum up and no pages: its own sentence says so.
        summary: view.total === 0 ? null : w.t('portal.list.summary', { from: formatCount(from, w.language), to: formatCount(to, w.language), total: formatCount(view.total, w.language) }),
        prevHref: view.page > 1 ? `${base}${queryString({ ...kept, ...sortParams, page: view.page - 1 })}` : null,
        nextHref: view.page < lastPage ? `${base}${queryString({ ...kept, ...sortParams, page: view.page + 1 })}` : null,
        pageLabel: w.t('portal.list.page', { page: formatCount(view.page, w.language), pages: formatCount(lastPage, w.language) }),
      },
    });
  }

  /**
   * The fields a list may be sorted by, in the header's order, after the system's own orders. The one
   * in use is kept, also a visible field the list does not show (a typed `sort`, as the API's): the
   * search form sends the select's value, and would otherwise drop it.
   */
  private sortOptions(w: WorkspaceRequest, view: ListView, columns: readonly { name: string; label: string; sortHref: string | null }[]): { value: string; label: string; selected: boolean }[] {
    const system = [
      { value: 'modifiedAt', label: w.t('portal.list.sortModified') },
      ...(view.sort.field === 'createdAt' ? [{ value: 'createdAt', label: w.t('portal.list.sortCreated') }] : []),
    ];
    const fields = columns.filter((c) => c.sortHref !== null).map((c) => ({ value: c.name, label: c.label }));
    const inUse = [...system, ...fields].some((o) => o.value === view.sort.field) ? [] : [{ value: view.sort.field, label: this.fieldLabel(w, view.module, view.sort.field) }];
    return [...system, ...fields, ...inUse].map((o) => ({ ...o, selected: o.value === view.sort.field }));
  }

  /** A visible field's label in the customer's language (its name for one the customer cannot see). */
  private fieldLabel(w: WorkspaceRequest, module: string, field: string): string {
    const found = w.access.module(module).fields.find((f) => f.name === field);
    return found ? labelOf(found, w.language) : field;
  }

  /** Which column's search value could not be read, and how to type it. */
  /** The list's title: the module's label in the customer's language (on version 1 the menu's "My requests" and "Knowledge base"). */
  private title(w: WorkspaceRequest, name: string): string {
    return this.frame.listLabel(w, name);
  }

  private unreadableHint(w: WorkspaceRequest, column: PortalField | undefined, field: string): string {
    const params = { column: column?.label ?? field };
    switch (column?.type) {
      case 'date':
        return w.t('portal.list.unreadable.date', params);
      case 'integer':
        return w.t('portal.list.unreadable.integer', params);
      case 'decimal':
      case 'currency':
        return w.t('portal.list.unreadable.number', { ...params, example: new Intl.NumberFormat(w.language, { useGrouping: false, minimumFractionDigits: 2 }).format(1250.5) });
      case 'datetime':
        return w.t('portal.list.unreadable.datetime', params);
      default:
        return w.t('portal.list.unreadable.other', params);
    }
  }

  /**
   * Runs `start` (the export's first read or check); a search or sort the list cannot do is refused
   * here, before a row is sent: a 400 page saying why, nothing exported, and a link to the list with
   * the same search, which leaves such parts out and says so. The list may leave them out because it
   * says so beside the rows; a file has no place to say it, and would hold more rows than asked for.
   */
  private async exportable<T>(w: WorkspaceRequest, name: string, typed: ListQuery, start: () => Promise<T>): Promise<T | null> {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof AccessError) || error.kind !== 'invalid') throw error;
      const byFilter = refusedByFilter(error, typed.filters);
      // A field that does not exist or is hidden named as typed; a value a column cannot hold by its column.
      const named = error.problems.map((p) => `“${clipped(p.code === 'invalid-value' ? this.fieldLabel(w, name, p.field) : p.field, 64)}”`);
      const list = `${this.frame.path(`/m/${name}`)}${queryString({
        q: typed.search,
        ...Object.fromEntries(Object.entries(typed.filters).map(([f, v]) => [`f_${f}`, v])),
        ...(typed.sort ? { sort: typed.sort.field, dir: typed.sort.direction } : {}),
      })}`;
      const heading = w.t('portal.errors.invalidTitle');
      this.frame.send(w, {
        template: 'workspace-message',
        title: heading,
        status: 400,
        refused: true,
        data: {
          heading,
          message: byFilter ? w.t('portal.list.exportNotSearchable', { fields: named.join(', ') }) : w.t('portal.list.exportRefused'),
          backHref: list,
          backLabel: w.t('portal.list.exportBack'),
        },
      });
      return null;
    }
  }

  /** The list as CSV (visible list columns only, the same search and sort), streamed in batches. */
  private async exportCsv(w: WorkspaceRequest): Promise<void> {
    const name = moduleParam(w);
    if (!w.access.hasTool(name, 'export')) throw new AccessError(w.access.module(name).view ? 'not-allowed' : 'not-found');
    const typed = listQueryOf(w.req);
    // The same search as the list's for the same address (its export link), numbers read alike.
    const query = { ...typed, filters: this.filtersRead(w, name, typed) };
    const { res } = w;
    const headers = () => {
      res.status(200);
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      // Named as the list reads to the customer, and the day (`Ticket di assistenza 2026-12-05.csv`), as the API names it.
      res.setHeader('Content-Disposition', listExportDisposition(w.access, name));
      res.setHeader('X-Content-Type-Options', 'nosniff');
    };
    // HEAD: the GET's refusals and headers, without reading the rows (Node drops a HEAD's body, not its work).
    if (w.req.method === 'HEAD') {
      // `exportable` answers null once it has sent the refusal; the check itself answers nothing.
      if ((await this.exportable(w, name, typed, async () => (await w.access.checkExport(name, { ...this.request(query), page: 1 }), true))) === null) return;
      headers();
      res.end();
      return;
    }
    const batches = w.access.exportRows(name, { ...this.request(query), page: 1 });
    let first: IteratorResult<{ readonly columns: readonly PortalField[]; readonly rows: readonly PortalRow[] }>;
    {
      const read = await this.exportable(w, name, typed, () => batches.next());
      if (!read) return;
      first = read;
    }
    headers();
    // The same CSV as the API's export (one writer): formulas neutralised, numbers kept as numbers.
    const words = { yes: w.t('records.yes'), no: w.t('records.no') };
    // Separated as the customer's spreadsheet splits it: `;` and decimal commas in Italian; times on the page's clock (see csv-export.ts).
    const format = csvFormatFor(w.access.language, w.access.timeZone);
    // Each batch waits for the client to take the last one; one that leaves stops the export.
    let header = false;
    while (!first.done) {
      const { columns, rows } = first.value;
      if (!header) {
        if (!(await writeChunk(res, CSV_BOM + csvLine(columns.map((c) => csvCell(c.label, format)), format)))) return;
        header = true;
      }
      if (!(await writeChunk(res, rows.map((row) => csvRow(columns, row, words, format)).join('')))) return;
      first = await batches.next();
    }
    res.end();
  }
}
