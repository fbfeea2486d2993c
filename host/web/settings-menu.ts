/** The Settings page's entries that plugins register (in memory: plugins register them on every activation). */
import type { HostSettingsMenu, SettingsMenuEntry, Unsubscribe } from '../../plugin/host-contract/index.js';

export class InMemorySettingsMenu implements HostSettingsMenu {
  private list: SettingsMenuEntry[] = [];

  register(entry: SettingsMenuEntry): Unsubscribe {
    if (this.list.some((existing) => existing.id === entry.id)) throw new Error(`A settings entry "${entry.id}" is registered already`);
    if (!entry.path.startsWith('/') || entry.path.startsWith('//')) throw new Error(`Settings entry "${entry.id}" must have a local path`);
    const frozen = Object.freeze({ ...entry });
    this.list = [...this.list, frozen];
    return () => {
      this.list = this.list.filter((existing) => existing !== frozen);
    };
  }

  entries(): readonly SettingsMenuEntry[] {
    return this.list;
  }
}
