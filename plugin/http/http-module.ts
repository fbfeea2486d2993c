import { ContainerModule } from 'inversify';
import { AdminOutcomes, HmacAdminOutcomes } from './admin-outcomes.js';
import { AdminPages, CrmLayoutAdminPages } from './admin-pages.js';
import { CsrfTokens, HmacCsrfTokens } from './csrf.js';
import { DerivedPluginKeys, PluginKeys } from './plugin-keys.js';
import { HandlebarsPageRenderer, PageRenderer } from './page-renderer.js';
import { ExpressPluginRouters, PluginRouters } from './plugin-routers.js';

export const httpModule = new ContainerModule(({ bind }) => {
  bind<PageRenderer>(PageRenderer).to(HandlebarsPageRenderer).inSingletonScope();
  bind<PluginKeys>(PluginKeys).to(DerivedPluginKeys).inSingletonScope();
  bind<CsrfTokens>(CsrfTokens).to(HmacCsrfTokens).inSingletonScope();
  bind<AdminOutcomes>(AdminOutcomes).to(HmacAdminOutcomes).inSingletonScope();
  bind<AdminPages>(AdminPages).to(CrmLayoutAdminPages).inSingletonScope();
  bind<PluginRouters>(PluginRouters).to(ExpressPluginRouters).inSingletonScope();
});
