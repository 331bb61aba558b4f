/**
 * The application's modules, in navigation order. A new module adds one entry here: its nav
 * link, its page, and any deeper routes (detail pages) it owns. Pages load on first visit, so the
 * sign-in page does not download the data grid.
 */
import { lazy, type ReactNode } from 'react';

export interface NavItem {
  /** Text of the link in the left navbar. */
  label: string;
  /** Absolute path of the module's main page; the link is active for this path and below it. */
  path: string;
  element: ReactNode;
  /** Further routes of the module that have no navbar link of their own (e.g. detail pages). */
  routes?: { path: string; element: ReactNode }[];
}

const TrialBalancePage = lazy(() => import('./pages/TrialBalance'));
const JournalPage = lazy(() => import('./pages/Journal'));
const EntryPage = lazy(() => import('./pages/Entry'));
const AccountsPage = lazy(() => import('./pages/Accounts'));
const AccountPage = lazy(() => import('./pages/Account'));
const AuditPage = lazy(() => import('./pages/Audit'));
const TradesPage = lazy(() => import('./pages/Trades'));
const PositionsPage = lazy(() => import('./pages/Positions'));
const CustomersPage = lazy(() => import('./pages/Customers'));
const CustomerPage = lazy(() => import('./pages/Customer'));
const SecuritiesPage = lazy(() => import('./pages/Securities'));
const SecurityPage = lazy(() => import('./pages/Security'));
const ImportPage = lazy(() => import('./pages/Import'));
const SettlementPage = lazy(() => import('./pages/Settlement'));
const ObligationPage = lazy(() => import('./pages/Obligation'));
const ReconciliationPage = lazy(() => import('./pages/Reconciliation'));
const CorporateActionsPage = lazy(() => import('./pages/CorporateActions'));
const CorporateActionPage = lazy(() => import('./pages/CorporateActions').then((m) => ({ default: m.CorporateActionPage })));
const FinancialStatementsPage = lazy(() => import('./pages/FinancialStatements'));
const ClosePage = lazy(() => import('./pages/Close'));

export const NAV: NavItem[] = [
  { label: 'Trial balance', path: '/trial-balance', element: <TrialBalancePage /> },
  {
    label: 'Journal',
    path: '/journal',
    element: <JournalPage />,
    routes: [{ path: '/journal/:id', element: <EntryPage /> }],
  },
  {
    label: 'Chart of accounts',
    path: '/accounts',
    element: <AccountsPage />,
    routes: [{ path: '/accounts/:name', element: <AccountPage /> }],
  },
  { label: 'Trades', path: '/trades', element: <TradesPage /> },
  {
    label: 'Positions',
    path: '/positions',
    element: <PositionsPage />,
    // Customer accounts are reached from positions, trades and inventory.
    routes: [
      { path: '/customers', element: <CustomersPage /> },
      { path: '/customers/:account', element: <CustomerPage /> },
    ],
  },
  {
    label: 'Securities',
    path: '/securities',
    element: <SecuritiesPage />,
    routes: [{ path: '/securities/:symbol', element: <SecurityPage /> }],
  },
  {
    label: 'Settlement',
    path: '/settlement',
    element: <SettlementPage />,
    routes: [{ path: '/settlement/obligations/:id', element: <ObligationPage /> }],
  },
  { label: 'Reconciliation', path: '/reconciliation', element: <ReconciliationPage /> },
  {
    label: 'Corporate actions',
    path: '/corporate-actions',
    element: <CorporateActionsPage />,
    routes: [{ path: '/corporate-actions/:id', element: <CorporateActionPage /> }],
  },
  {
    label: 'Financial statements',
    path: '/statements',
    element: <FinancialStatementsPage />,
    routes: [{ path: '/statements/close', element: <ClosePage /> }],
  },
  { label: 'Import', path: '/import', element: <ImportPage /> },
  { label: 'Audit', path: '/audit', element: <AuditPage /> },
];

/** Where "/" and a fresh sign-in land. */
export const HOME_PATH = '/trial-balance';
