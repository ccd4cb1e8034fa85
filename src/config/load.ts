/**
 * The config loader's public face: decoding (`decode.ts`), whole-config checks and merging
 * (`validate.ts`), sources (`source.ts`), printing (`print.ts`), and the config file keys
 * (`keys.ts`).
 */
export { IGNORED_KEYS } from './keys.js';
export { DefaultNames, decodeConfig, type LoadOptions } from './decode.js';
export { mergeConfigs, validateConfig } from './validate.js';
export { loadConfigSource, parseConfigText } from './source.js';
export { normaliseConfig, toJson, toYaml } from './print.js';
