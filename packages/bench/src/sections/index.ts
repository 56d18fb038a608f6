import type { Section } from '../report';
import { bundleSection } from './bundle';
import { cacheSection } from './cache';
import { loopSection } from './loop';
import { reloadSection } from './reload';
import { serviceSection } from './service';
import { suiteSection } from './suite';
import { switchSection } from './switch';

/** Every section, in the order. */
export const SECTIONS: readonly Section[] = [serviceSection, reloadSection, switchSection, cacheSection, bundleSection, suiteSection, loopSection];
