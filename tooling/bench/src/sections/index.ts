import type { Section } from '../report';
import { bundleSection } from './bundle';
import { loopSection } from './loop';
import { reloadSection } from './reload';
import { serviceSection } from './service';
import { switchSection } from './switch';

/** Every section, in the order the report shows them. */
export const SECTIONS: readonly Section[] = [serviceSection, reloadSection, switchSection, bundleSection, loopSection];
