/**
 * The portal's home (`GET /`): the profile's quick-action buttons in their order, each with its
 * colour, icon, title and description — "list" opens the module's list, "create" its new-record
 * form. Version 1 installs have no buttons: their home points at the classic menu's entries.
 */
import type { Router } from 'express';
import { inject, injectable } from 'inversify';
import type { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { buttonText } from '../../profiles/profile-document.js';
import { BUTTON_ICONS, buttonIcon } from '../../profiles/button-icons.js';
import { displayName } from '../../auth/portal-sessions.js';
import { PASSWORD_CHOSEN_NOTICE } from '../../auth/first-access.js';
import { WorkspaceFrame, type WorkspaceRequest } from './workspace-frame.js';

@injectable()
export class WorkspacePages implements PortalRouteContribution {
  constructor(@inject(WorkspaceFrame) private readonly frame: WorkspaceFrame) {}

  registerPortalRoutes(router: Router): void {
    router.get('/', this.frame.page((w) => this.home(w)));
  }

  private async home(w: WorkspaceRequest): Promise<void> {
    const classic = w.access.policy.source.version === 1;
    const buttons = classic
      ? this.classicButtons(w)
      : w.access.policy.buttons.map((button, index) => ({
          key: `button-${index}`,
          // In the customer's language where the administrator gave it one.
          ...buttonText(button, w.language),
          colour: button.colour,
          icon: buttonIcon(button.icon),
          href: this.frame.path(button.action === 'create' ? `/m/${button.module}/new` : `/m/${button.module}`),
        }));
    // The profiles' icon set, drawn once per page as a sprite of the icons the buttons use.
    const icons = [...new Set(buttons.map((b) => b.icon))].map((name) => ({ name, path: BUTTON_ICONS[buttonIcon(name)] }));
    this.frame.send(w, {
      template: 'workspace-home',
      title: w.t('portal.home.title'),
      entry: 'home',
      notice: w.req.query.notice === PASSWORD_CHOSEN_NOTICE ? w.t('portal.home.passwordChosen') : null,
      data: {
        heading: w.t('portal.home.greeting', { name: displayName(w.session) }),
        buttons,
        icons,
        empty: buttons.length === 0,
      },
    });
  }

  /** Version 1: the classic entries as buttons (new request, my requests, knowledge base). */
  private classicButtons(w: WorkspaceRequest) {
    const modules = w.access.modules;
    const tickets = modules.find((m) => m.name === 'HelpDesk');
    const buttons = [];
    if (tickets?.create) buttons.push({ key: 'new-request', title: w.t('portal.menu.newRequest'), description: w.t('portal.home.newRequestHint'), colour: 'primary', icon: 'plus', href: this.frame.path('/m/HelpDesk/new') });
    if (tickets?.view) buttons.push({ key: 'my-requests', title: w.t('portal.menu.myRequests'), description: w.t('portal.home.myRequestsHint'), colour: 'info', icon: 'ticket', href: this.frame.path('/m/HelpDesk') });
    if (modules.some((m) => m.name === 'Faq' && m.view)) buttons.push({ key: 'knowledge-base', title: w.t('portal.menu.knowledgeBase'), description: w.t('portal.home.knowledgeBaseHint'), colour: 'secondary', icon: 'question', href: this.frame.path('/m/Faq') });
    return buttons;
  }
}
