/**
 * The Business Portal plugin's entry point (the manifest's `entry`): its default export is the
 * `PluginFactory` a host calls. This is the composition root: which capabilities the plugin has.
 */
import 'reflect-metadata';
import { authModule } from './auth/auth-module.js';
import { DemoAccountSeeder } from './auth/demo-accounts.js';
import type { PluginFactory } from './host-contract/index.js';
import { coreModules } from './lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from './lifecycle/plugin-lifecycle.js';

const createBusinessPortal: PluginFactory = (options) =>
  new BusinessPortalLifecycle(options, { modules: [...coreModules, authModule], demoSeeder: DemoAccountSeeder });

export default createBusinessPortal;
