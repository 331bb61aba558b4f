/** Kernel: money and decimals, ids, dates, errors, clock, config. No I/O, no domain. */
export * from './errors.js';
export * from './money.js';
export * from './ids.js';
export * from './dates.js';
export * from './clock.js';
export * from './config.js';
export * from './roles.js';
export * from './yield.js';
export * from './heap.js';
