/**
 * The Business Portal plugin's entry point (the manifest's `entry`): its default export is the
 * `PluginFactory` a host calls. This is the composition root: which capabilities the plugin has.
 */
import 'reflect-metadata';
import { accessModule } from './access/access-module.js';
import { authModule } from './auth/auth-module.js';
import { unlockModule } from './auth/unlock-module.js';
import { contactsModule } from './contacts/contacts-module.js';
import type { PluginFactory } from './host-contract/index.js';
import { coreModules } from './lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from './lifecycle/plugin-lifecycle.js';
import { portalApiModule } from './portal/api/portal-api-module.js';
import { DemoPortalSeeder } from './portal/demo-portal.js';
import { portalPagesModule } from './portal/pages/portal-pages-module.js';
import { profileAdminModule } from './settings/profile-admin-module.js';

const createBusinessPortal: PluginFactory = (options) =>
  new BusinessPortalLifecycle(options, { modules: [...coreModules, authModule, accessModule, unlockModule, contactsModule, profileAdminModule, portalPagesModule, portalApiModule], demoSeeder: DemoPortalSeeder });

export default createBusinessPortal;
