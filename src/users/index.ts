/** Users, roles, sessions and API tokens. */
export * from '../kernel/roles.js';
export * from './users.js';
export { userRoutes, SESSION_COOKIE } from './http.js';
