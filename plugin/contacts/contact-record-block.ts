/**
 * Registers the "Business Portal information" block on the host's Contact record pages while the
 * plugin is active (through `HostRecordBlocks`) and removes it on deactivation. The block renders
 * its sections (`ContactBlockSection`) in order, in the CRM user's language, and links its own
 * stylesheet (`assets/contact-block.css`, scoped to the block so the host page keeps its look).
 *
 * Every CRM user who opens a contact sees the block, not only admins, so the stylesheet is not
 * served by the admin router (admins only): `ContactBlockAssets` serves this folder's assets
 * under the portal's mount path, which is public like the portal's own stylesheets.
 */
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { inject, injectable, multiInject, optional } from 'inversify';
import { HostRecordBlocks, type RecordBlockContext, type Unsubscribe } from '../host-contract/index.js';
import { PackageAssets } from '../http/package-assets.js';
import { PageRenderer } from '../http/page-renderer.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type LifecycleContribution, type PortalRouteContribution } from '../lifecycle/contributions.js';
import { ContactBlockSection } from './contact-block-sections.js';

export const CONTACT_BLOCK_ID = 'business-portal.contact';
/** After the host's own blocks, which use small numbers. */
const CONTACT_BLOCK_ORDER = 100;

const CONTACT_ASSETS = new PackageAssets(fileURLToPath(new URL('./assets/', import.meta.url)));
/** Under the portal's mount path; the portal's own assets live at `/assets` beside it. */
const CONTACT_ASSETS_PATH = '/assets/contacts';

/** The block's stylesheet, for a portal mounted at `portalPath`, with its version. */
export function contactBlockStylesheet(portalPath: string): string {
  return CONTACT_ASSETS.href(`${portalPath}${CONTACT_ASSETS_PATH}`, 'contact-block.css');
}

/** Serves the block's stylesheet to every visitor (it holds nothing but styles). */
@injectable()
export class ContactBlockAssets implements PortalRouteContribution {
  registerPortalRoutes(router: Router): void {
    router.use(CONTACT_ASSETS_PATH, CONTACT_ASSETS.routes());
  }
}

@injectable()
export class ContactRecordBlock implements LifecycleContribution {
  private unregister: Unsubscribe | null = null;

  constructor(
    @inject(HostRecordBlocks) private readonly blocks: HostRecordBlocks,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @multiInject(ContactBlockSection) @optional() private readonly sections: readonly ContactBlockSection[] = [],
  ) {}

  async onActivate(): Promise<void> {
    this.unregister = this.blocks.register({
      id: CONTACT_BLOCK_ID,
      module: 'Contacts',
      title: this.translator.localized('portal.contactBlock.title'),
      order: CONTACT_BLOCK_ORDER,
      render: (context) => this.render(context),
    });
  }

  async onDeactivate(): Promise<void> {
    this.unregister?.();
    this.unregister = null;
  }

  private async render(context: RecordBlockContext): Promise<string> {
    const language = this.translator.supported(context.language);
    const ordered = [...(this.sections ?? [])].sort((a, b) => a.order - b.order);
    const sections = [];
    for (const section of ordered) sections.push({ id: section.id, html: await section.render({ ...context, language }) });
    return this.renderer.render('admin/contact-block', language, { sections, stylesheet: contactBlockStylesheet(this.settings.portalPath) });
  }
}
