/** The process entry point (`node dist/main.js`, or pm2's ecosystem file). */
import { runService } from './service';

void runService();
