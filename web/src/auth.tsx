import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import type { Role, User } from './api';

interface AuthState {
  /** `undefined` until known, `null` after sign-out; either way the shell asks GET /api/auth/me. */
  user: User | null | undefined;
  setUser: (user: User | null) => void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const value = useMemo(() => ({ user, setUser }), [user]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside <AuthProvider>');
  return state;
}

/** Roles that may only look. The server enforces this; the UI just hides what would be refused. */
const READ_ONLY_ROLES: readonly Role[] = ['auditor'];

/** Whether the signed-in user may change ledger data (open accounts, reverse entries). */
export function useCanWrite(): boolean {
  const { user } = useAuth();
  return !!user && !READ_ONLY_ROLES.includes(user.role);
}

/** Roles that may import executions and retry quarantined records. */
const IMPORT_ROLES: readonly Role[] = ['admin', 'operations'];

/** Whether the signed-in user may import trade files and retry quarantined records. */
export function useCanImport(): boolean {
  const { user } = useAuth();
  return !!user && IMPORT_ROLES.includes(user.role);
}
