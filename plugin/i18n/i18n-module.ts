import { ContainerModule } from 'inversify';
import { LocaleTranslator, Translator } from './translator.js';

export const i18nModule = new ContainerModule(({ bind }) => {
  bind<Translator>(Translator).to(LocaleTranslator).inSingletonScope();
});
