/**
 * Registers the "Business Portal information" block on the host's Contact record pages while the
 * plugin is active (through `HostRecordBlocks`) and removes it on deactivation. The block renders
 * its sections (`ContactBlockSection`) in order, in the CRM user's language.
 */
import { inject, injectable, multiInject, optional } from 'inversify';
import { HostRecordBlocks, type RecordBlockContext, type Unsubscribe } from '../host-contract/index.js';
import { PageRenderer } from '../http/page-renderer.js';
import { Translator } from '../i18n/translator.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { ContactBlockSection } from './contact-block-sections.js';

export const CONTACT_BLOCK_ID = 'business-portal.contact';
/** After the host's own blocks, which use small numbers. */
const CONTACT_BLOCK_ORDER = 100;

@injectable()
export class ContactRecordBlock implements LifecycleContribution {
  private unregister: Unsubscribe | null = null;

  constructor(
    @inject(HostRecordBlocks) private readonly blocks: HostRecordBlocks,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(Translator) private readonly translator: Translator,
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
    return this.renderer.render('admin/contact-block', language, { sections });
  }
}
