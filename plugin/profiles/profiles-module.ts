import { ContainerModule, inject, injectable } from 'inversify';
import { LifecycleContribution } from '../lifecycle/contributions.js';
import { ProfileAudit } from './profile-audit.js';
import { ProfileSectionsStore } from './profile-sections-store.js';
import { DatabaseProfileService, ProfileService } from './profile-service.js';
import { ProfileStore, SequelizeProfileStore } from './profile-store.js';

/** Seeds the Default profile at every install (a no-op once it exists). */
@injectable()
export class DefaultProfileSeeder implements LifecycleContribution {
  constructor(@inject(ProfileStore) private readonly profiles: ProfileStore) {}

  async onInstall(): Promise<void> {
    await this.profiles.ensureDefault();
  }
}

/**
 * `ProfileService` needs `ModuleEligibility` (the eligibility capability's module): it is only
 * resolved by those who ask for it, so the store alone works without that module.
 */
export const profilesModule = new ContainerModule(({ bind }) => {
  bind<ProfileStore>(ProfileStore).to(SequelizeProfileStore).inSingletonScope();
  bind(ProfileSectionsStore).toSelf().inSingletonScope();
  bind(ProfileAudit).toSelf().inSingletonScope();
  bind<ProfileService>(ProfileService).to(DatabaseProfileService).inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).to(DefaultProfileSeeder).inSingletonScope();
});
