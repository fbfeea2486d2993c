/**
 * The contacts capability: the Business Portal block on the CRM's Contact record. Sections are
 * multi-bound under `ContactBlockSection` (this module binds the login history; the portal-user
 * fields bind theirs the same way).
 */
import { ContainerModule } from 'inversify';
import { LifecycleContribution } from '../lifecycle/contributions.js';
import { ContactBlockSection } from './contact-block-sections.js';
import { ContactRecordBlock } from './contact-record-block.js';
import { LoginHistorySection } from './login-history-section.js';

export const contactsModule = new ContainerModule(({ bind }) => {
  bind<LifecycleContribution>(LifecycleContribution).to(ContactRecordBlock).inSingletonScope();
  bind<ContactBlockSection>(ContactBlockSection).to(LoginHistorySection).inSingletonScope();
});
