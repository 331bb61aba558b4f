/**
 * Accounting: corporate actions, period close, FX revaluation, financial statements.
 * Each part is its own folder; other modules import only this file.
 */
export * from './close/index.js';
export * from './corporate-actions/index.js';
