/** Users, roles, sessions and API tokens. */
export { ROLES, PERMISSIONS, can, type Role, type Permission } from '../kernel/index.js';
export * from './users.js';
export { userRoutes, SESSION_COOKIE } from './http.js';
