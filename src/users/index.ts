/** Users, roles, sessions and API tokens. */
export * from './roles.js';
export * from './users.js';
