import { ContainerModule } from 'inversify';
import { ModuleEligibility, RegistryModuleEligibility } from './module-eligibility.js';

export const eligibilityModule = new ContainerModule(({ bind }) => {
  bind<ModuleEligibility>(ModuleEligibility).to(RegistryModuleEligibility).inSingletonScope();
});
