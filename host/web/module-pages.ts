/**
 * The reference CRM's read-only module pages, for CRM admins: every module of the registry
 * (`/settings/modules`) and one module's fields and relations (`/settings/modules/:name`). Plugins
 * link here through `HostHttp.moduleRelationsUrl` (e.g. the Business Portal's list of modules
 * that are not portal-eligible). Relations are added from code or the command line
 * (`npm run host -- add-relation …`); the page says so. Read from the registry on every request,
 * so a relation another process added shows at its next poll.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { CrmSession, HostModuleRegistry, LanguageCode, LocalizedText, ModuleDefinition, RelationDefinition } from '../../plugin/host-contract/index.js';
import type { WebHostHttp } from './host-http.js';

export const MODULE_PAGES_PATH = '/settings/modules';

/** The page of one module's fields and relations. */
export function moduleRelationsPath(module: string): string {
  return `${MODULE_PAGES_PATH}/${encodeURIComponent(module)}`;
}

function localized(text: LocalizedText | undefined, language: LanguageCode): string {
  return text ? (text[language] ?? text.en) : '';
}

export function modulePages(deps: { readonly http: WebHostHttp; readonly modules: HostModuleRegistry }): Router {
  const { http, modules } = deps;
  const router = express.Router();

  async function admin(req: Request, res: Response): Promise<CrmSession | null> {
    const session = await http.crmSession(req);
    if (!session) {
      res.redirect(303, http.loginUrl(req.originalUrl));
      return null;
    }
    if (!session.user.isAdmin) {
      await http.sendMessage(req, res, 403, 'Not allowed', 'This page is for CRM administrators.');
      return null;
    }
    return session;
  }

  function relationRow(relation: RelationDefinition, module: string, language: LanguageCode) {
    const other = relation.module === module ? relation.relatedModule : relation.module;
    return {
      id: relation.id,
      kind: relation.kind === 'reference' ? 'Reference field' : 'Related list',
      other,
      otherPath: modules.module(other) ? moduleRelationsPath(other) : null,
      otherLabel: localized(modules.module(other)?.label, language) || other,
      // Which side declares it: `module.field` points at `relatedModule`.
      direction: relation.module === module ? `${module}${relation.field ? `.${relation.field}` : ''} → ${relation.relatedModule}` : `${relation.module}${relation.field ? `.${relation.field}` : ''} → ${module}`,
      label: localized(relation.label, language),
    };
  }

  router.get(MODULE_PAGES_PATH, async (req, res) => {
    const session = await admin(req, res);
    if (!session) return;
    const language = session.user.language;
    await http.sendView(req, res, {
      title: 'Modules',
      view: 'modules',
      data: {
        modules: modules.modules().map((m: ModuleDefinition) => ({
          name: m.name,
          label: localized(m.label, language),
          path: moduleRelationsPath(m.name),
          custom: m.custom,
          fields: m.fields.length,
          relations: modules.relations(m.name).length,
        })),
      },
    });
  });

  router.get(`${MODULE_PAGES_PATH}/:name`, async (req, res) => {
    const session = await admin(req, res);
    if (!session) return;
    const name = String(req.params.name ?? '');
    const definition = /^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(name) ? modules.module(name) : undefined;
    if (!definition) {
      await http.sendMessage(req, res, 404, 'Not found', 'There is no such module.');
      return;
    }
    const language = session.user.language;
    await http.sendView(req, res, {
      title: localized(definition.label, language) || definition.name,
      view: 'module',
      data: {
        name: definition.name,
        custom: definition.custom,
        listPath: MODULE_PAGES_PATH,
        fields: definition.fields.map((field) => ({
          name: field.name,
          label: localized(field.label, language),
          type: field.type,
          mandatory: field.mandatory,
          references: (field.referenceModules ?? []).join(', '),
        })),
        relations: modules.relations(definition.name).map((relation) => relationRow(relation, definition.name, language)),
      },
    });
  });

  return router;
}
