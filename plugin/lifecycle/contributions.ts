/**
 * How a capability folder plugs into the plugin (the contribution pattern of Eclipse Theia):
 * each capability's ContainerModule binds its contributions under these tokens (multi-bound);
 * the lifecycle collects them with `getAll` and calls them in the order of its phases.
 */
import type { Router } from 'express';
import type { PluginManifest } from '../host-contract/index.js';

/** Routes under the portal's mount path (`/portal` by default), for customers. */
export const PortalRouteContribution = Symbol.for('business-portal.PortalRouteContribution');
export interface PortalRouteContribution {
  /**
   * Called once per activation with the portal router (its JSON API lives under `/api/v1`). Only
   * the API's paths parse JSON; a page's write gets urlencoded or multipart (any other body is
   * refused with 415): a page form takes its body through `portalFormBody()`, which refuses
   * multipart, and a page that takes a file refuses anything but multipart.
   */
  registerPortalRoutes(router: Router): void;
  /**
   * Optional: called before any body is read (or refused), with the same router. For checks that
   * need only the method and the path, so that their answer does not depend on the body (the API's
   * 405: a wrong method gets it whatever it sends).
   */
  registerPortalFront?(router: Router): void;
}

/** Routes under the settings mount path (`/settings/business-portal`), for CRM admins only. */
export const AdminRouteContribution = Symbol.for('business-portal.AdminRouteContribution');
export interface AdminRouteContribution {
  /**
   * The router already refuses anonymous visitors (to the CRM login) and non-admins (403). These
   * routes are forms: they read urlencoded bodies only, and any other body is refused with 415.
   */
  registerAdminRoutes(router: Router): void;
  /**
   * Routes that read JSON too, with a parser of their own: an API for a page's own script (the
   * privileges editor's saves) or for tools (the profile import). Registered before every form.
   */
  registerAdminJsonRoutes?(router: Router): void;
}

/** Hooks into the lifecycle, in the order the capabilities' modules are loaded. */
export const LifecycleContribution = Symbol.for('business-portal.LifecycleContribution');
export interface LifecycleContribution {
  /** After migrations, during `install` (idempotent: it runs on every start). */
  onInstall?(): Promise<void>;
  /** During `activate`, after the routes are mounted (register listeners, blocks, timers). */
  onActivate?(): Promise<void>;
  /** During `deactivate`, in reverse order (remove what onActivate added). */
  onDeactivate?(): Promise<void>;
}

/** The host's `apiVersion` (`HOST_API_VERSION` of the contract it implements): what optional parts it has. */
export const HostApiVersion = Symbol.for('business-portal.HostApiVersion');

/** Where the plugin is mounted and what its manifest says. */
export const PluginSettings = Symbol.for('business-portal.PluginSettings');
export interface PluginSettings {
  readonly manifest: PluginManifest;
  /** The portal's mount path, `/portal` unless the host configured another. */
  readonly portalPath: string;
  /** The admin pages' mount path, `/settings/business-portal`. */
  readonly settingsPath: string;
}
