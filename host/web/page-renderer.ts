/**
 * The host's Handlebars views (`host/web/views/*.hbs`), compiled once at start-up with an
 * environment of their own. Every `{{value}}` is escaped; the layout's `{{{bodyHtml}}}` and
 * `{{{headHtml}}}` take only markup that a view or a plugin rendered with escaping templates.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const viewsDir = fileURLToPath(new URL('./views/', import.meta.url));

export class PageRenderer {
  private readonly views = new Map<string, Handlebars.TemplateDelegate>();

  constructor() {
    const handlebars = Handlebars.create();
    for (const file of readdirSync(viewsDir)) {
      if (!file.endsWith('.hbs')) continue;
      this.views.set(file.slice(0, -'.hbs'.length), handlebars.compile(readFileSync(viewsDir + file, 'utf8'), { strict: false }));
    }
  }

  render(view: string, data: object): string {
    const template = this.views.get(view);
    if (!template) throw new Error(`No host view named "${view}"`);
    return template(data);
  }
}
