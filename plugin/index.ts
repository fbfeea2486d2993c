/**
 * The Business Portal plugin's entry point (the manifest's `entry`): its default export is the
 * `PluginFactory` a host calls. This is the composition root: which capabilities the plugin has.
 */
import 'reflect-metadata';
import { authModule } from './auth/auth-module.js';
import { DemoAccountSeeder } from './auth/demo-accounts.js';
import { unlockModule } from './auth/unlock-module.js';
import { contactsModule } from './contacts/contacts-module.js';
import { eligibilityModule } from './eligibility/eligibility-module.js';
import type { PluginFactory } from './host-contract/index.js';
import { coreModules } from './lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from './lifecycle/plugin-lifecycle.js';
import { profileAdminModule } from './settings/profile-admin-module.js';

const createBusinessPortal: PluginFactory = (options) =>
  new BusinessPortalLifecycle(options, { modules: [...coreModules, authModule, unlockModule, contactsModule, eligibilityModule, profileAdminModule], demoSeeder: DemoAccountSeeder });

export default createBusinessPortal;
