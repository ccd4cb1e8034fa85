export { SmuxSession, type SmuxSessionOptions, type SmuxSessionEvents } from './session.js';
export { SmuxStream, INITIAL_PEER_WINDOW } from './stream.js';
export {
  DEFAULT_SMUX_CONFIG,
  mergeSmuxDefaults,
  resolveSmuxConfig,
  verifySmuxConfig,
  type SmuxConfig,
} from './config.js';
export { FrameDecoder } from './decoder.js';
export * from './frame.js';
