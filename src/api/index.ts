/** The HTTP API: composition root, auth, problem+json, OpenAPI. */
export { buildServer, WEB_DIR } from './server.js';
export type { AppDeps } from './types.js';
export type { Problem } from './problem.js';
