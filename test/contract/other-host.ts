/**
 * Another host: the contract implemented differently from the reference host, in every way the
 * contract allows, to check that the plugin relies on nothing the contract does not promise.
 * It is built on the reference host's stores (its database, pages, sign-in and mail), and answers
 * through the contract as an older, plainer CRM would:
 * - contract 1.0.0: no module relations page (1.1.0), no picklist labels (1.2.0), comments
 *   answered whole, oldest first, whatever page is asked for (1.3.0), and documents answered whole
 *   whatever page is asked for, with no `documentCount` (1.4.0);
 * - every list whose order the contract leaves open in another order (modules, relations, users,
 *   groups, templates, documents, related ids);
 * - dates and times as ISO 8601 with the CRM's own UTC offset (`2026-10-25T02:30:00+02:00`), not in UTC;
 * - events delivered after the write that raised them has answered, as an `EventEmitter` would:
 *   listeners are called on a later turn, their promises neither awaited nor caught.
 */
import type { Readable } from 'node:stream';
import type {
  Comment,
  CrmRecord,
  DocumentFile,
  HostApi,
  HostHttp,
  HostModuleRegistry,
  HostRecords,
  HostUsers,
  HostEmailTemplates,
  ModuleDefinition,
  RecordEvents,
  Unsubscribe,
} from '../../plugin/host-contract/index.js';

/** `2026-10-25T00:30:00.000Z` in `timeZone` with its offset then, e.g. `2026-10-25T02:30:00+02:00`. */
export function withLocalOffset(iso: string, timeZone: string): string {
  const at = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const offsetMinutes = Math.round((Date.parse(`${local}Z`) - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function withoutPicklistLabels(module: ModuleDefinition): ModuleDefinition {
  return { ...module, fields: module.fields.map(({ picklistLabels: _labels, ...field }) => field) };
}

/** The contract as an older, plainer CRM answers it, over the stores of `base` (a reference host's `api`). */
export function otherHost(base: HostApi): HostApi {
  const zone = base.regional.timeZone();
  const local = (iso: string) => withLocalOffset(iso, zone);
  const record = (r: CrmRecord): CrmRecord => ({ ...r, createdAt: local(r.createdAt), modifiedAt: local(r.modifiedAt) });
  const comment = (c: Comment): Comment => ({ ...c, createdAt: local(c.createdAt) });
  const file = (f: DocumentFile): DocumentFile => ({ ...f, createdAt: local(f.createdAt) });
  const reversed = <T>(list: readonly T[]): T[] => [...list].reverse();

  // No `moduleRelationsUrl` (1.1.0): this CRM has no such page.
  const http: HostHttp = {
    mount: (path, router) => base.http.mount(path, router),
    crmSession: (req) => base.http.crmSession(req),
    loginUrl: (returnTo) => base.http.loginUrl(returnTo),
    publicUrl: (path) => base.http.publicUrl(path),
    sendCrmPage: (req, res, page) => base.http.sendCrmPage(req, res, page),
  };

  const modules: HostModuleRegistry = {
    modules: () => reversed(base.modules.modules()).map(withoutPicklistLabels),
    module: (name) => {
      const found = base.modules.module(name);
      return found && withoutPicklistLabels(found);
    },
    relations: (module) => reversed(base.modules.relations(module)),
    picklistValues: (module, field, userId) => base.modules.picklistValues(module, field, userId),
    on: (event, listener) => base.modules.on(event, (payload) => void setImmediate(() => listener(payload))),
    registerModule: (definition) => base.modules.registerModule(definition),
    removeModule: (name) => base.modules.removeModule(name),
    addField: (module, field) => base.modules.addField(module, field),
    removeField: (module, field) => base.modules.removeField(module, field),
    addRelation: (relation) => base.modules.addRelation(relation),
    removeRelation: (id) => base.modules.removeRelation(id),
  };

  const b = base.records;
  const records: HostRecords = {
    query: async (module, query) => {
      const page = await b.query(module, query);
      return { ...page, rows: page.rows.map(record) };
    },
    count: (module, where, options) => b.count(module, where, options),
    get: async (module, id, options) => {
      const found = await b.get(module, id, options);
      return found && record(found);
    },
    create: async (module, input, options) => record(await b.create(module, input, options)),
    update: async (module, id, input, options) => record(await b.update(module, id, input, options)),
    delete: (module, id, options) => b.delete(module, id, options),
    link: (relationId, id, relatedId, options) => b.link(relationId, id, relatedId, options),
    unlink: (relationId, id, relatedId, options) => b.unlink(relationId, id, relatedId, options),
    relatedIds: async (relationId, module, id, options) => reversed(await b.relatedIds(relationId, module, id, options)),
    // Contract 1.0.0: every comment, oldest first; a `newest` page is not something it knows of.
    comments: async (module, recordId, options) => {
      const { newest: _page, ...rest } = options ?? {};
      return (await b.comments(module, recordId, rest)).map(comment);
    },
    commentCount: (module, recordId, options) => b.commentCount(module, recordId, options),
    addComment: async (module, recordId, body, options) => comment(await b.addComment(module, recordId, body, options)),
    // Contract 1.0.0: every file, in its own order; no `newest` page and no `documentCount` (1.4.0).
    documents: async (module, recordId, options) => {
      const { newest: _page, ...rest } = options ?? {};
      return reversed(await b.documents(module, recordId, rest)).map(file);
    },
    attachDocument: async (module, recordId, content, options) => file(await b.attachDocument(module, recordId, content, options)),
    openDocument: async (documentId): Promise<{ readonly file: DocumentFile; readonly stream: Readable } | null> => {
      const opened = await b.openDocument(documentId);
      return opened && { file: file(opened.file), stream: opened.stream };
    },
    on<E extends keyof RecordEvents>(event: E, listener: (payload: RecordEvents[E]) => void | Promise<void>): Unsubscribe {
      return b.on(event, (payload) => {
        const translated = (
          event === 'comment.added'
            ? { comment: comment((payload as RecordEvents['comment.added']).comment) }
            : event === 'record.updated'
              ? { ...payload, record: record((payload as RecordEvents['record.updated']).record), previous: record((payload as RecordEvents['record.updated']).previous) }
              : { ...payload, record: record((payload as RecordEvents['record.created']).record) }
        ) as RecordEvents[E];
        // As an EventEmitter would: called later, its promise left alone.
        setImmediate(() => void listener(translated));
      });
    },
  };

  const users: HostUsers = {
    users: async () => reversed(await base.users.users()),
    user: (id) => base.users.user(id),
    groups: async () => reversed(await base.users.groups()),
    group: (id) => base.users.group(id),
    roles: async () => reversed(await base.users.roles()),
  };

  const emailTemplates: HostEmailTemplates = {
    templates: async () => reversed(await base.emailTemplates.templates()),
    template: (id) => base.emailTemplates.template(id),
    render: (id, language, data) => base.emailTemplates.render(id, language, data),
  };

  return Object.freeze({ ...base, apiVersion: '1.0.0', http, modules, records, users, emailTemplates });
}
