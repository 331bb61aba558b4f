/** Roles of the people and machines that use Backoffice. `auditor` reads everything and changes nothing. */
export const ROLES = ['admin', 'operations', 'finance', 'compliance', 'hr', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who may do what. Every route names one of these permissions; the table is the one place that
 * says which roles hold it.
 */
export const PERMISSIONS = {
  'ledger.read': ['admin', 'operations', 'finance', 'compliance', 'auditor'],
  'ledger.post': ['admin', 'operations', 'finance'],
  'ledger.configure': ['admin', 'finance'],
  'ledger.close': ['admin', 'finance'],
  'audit.read': ['admin', 'finance', 'compliance', 'auditor'],
  'reference.read': ['admin', 'operations', 'finance', 'compliance', 'auditor'],
  'reference.manage': ['admin', 'operations', 'finance'],
  'trading.read': ['admin', 'operations', 'finance', 'compliance', 'auditor'],
  'trading.import': ['admin', 'operations'],
  'accounting.read': ['admin', 'finance', 'compliance', 'auditor'],
  'accounting.close': ['admin', 'finance'],
  'accounting.approve': ['admin', 'finance'],
  'corporate-actions.read': ['admin', 'operations', 'finance', 'compliance', 'auditor'],
  'corporate-actions.manage': ['admin', 'operations'],
  'settlement.manage': ['admin', 'operations'],
  'recon.read': ['admin', 'operations', 'finance', 'compliance', 'auditor'],
  'recon.manage': ['admin', 'operations', 'finance'],
  'recon.approve': ['admin', 'finance'],
  'users.manage': ['admin'],
  'self': ['admin', 'operations', 'finance', 'compliance', 'hr', 'auditor'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export const can = (role: Role, p: Permission): boolean => (PERMISSIONS[p] as readonly Role[]).includes(role);
