import { ContainerModule, inject, injectable } from 'inversify';
import { LifecycleContribution } from '../lifecycle/contributions.js';
import { ProfileStore, SequelizeProfileStore } from './profile-store.js';

/** Seeds the Default profile at every install (a no-op once it exists). */
@injectable()
export class DefaultProfileSeeder implements LifecycleContribution {
  constructor(@inject(ProfileStore) private readonly profiles: ProfileStore) {}

  async onInstall(): Promise<void> {
    await this.profiles.ensureDefault();
  }
}

export const profilesModule = new ContainerModule(({ bind }) => {
  bind<ProfileStore>(ProfileStore).to(SequelizeProfileStore).inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).to(DefaultProfileSeeder).inSingletonScope();
});
