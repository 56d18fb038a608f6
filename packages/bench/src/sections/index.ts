import type { Section } from '../report';
import { reloadSection } from './reload';
import { serviceSection } from './service';
import { switchSection } from './switch';

/** Every section, in report order. */
export const SECTIONS: readonly Section[] = [serviceSection, reloadSection, switchSection];
