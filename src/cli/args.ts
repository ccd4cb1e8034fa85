/** The command line's parsing (in `src/config/cmdline.ts`, shared with the library) and help text. */
export { buildConfigFromArgs, parseArgs, type CliArgs } from '../config/cmdline.js';
export { helpText } from './help.js';
