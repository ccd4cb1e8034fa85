export * from './constants.js';
export * from './codec.js';
export * from './datagram.js';
