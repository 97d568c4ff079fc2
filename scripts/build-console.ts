/** Builds the operations console into `.data/console/` (see src/console/build.ts). */
import { buildConsoleCli } from '../src/console/build';

buildConsoleCli();
