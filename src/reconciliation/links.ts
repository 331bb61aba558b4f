/**
 * Links: which ledger account a statement account is, and the matching rules of each linked
 * account. A cash account links to one ledger account (with its sub-accounts) in one asset; a
 * custody account links to a ledger account prefix (assets:depository:dtc) whose per-security
 * balances are the positions.
 */
import { withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks, likePrefix } from '../ledger/index.js';
import { ReconCodes, reconError } from './errors.js';
import { defaultRules, parseRules, type Rule } from './rules.js';
import { canonical, ctxOf, lockAccount, scaleOf, sha256, type ReconCtx } from './util.js';

export interface Link {
  statementAccount: string;
  kind: 'cash' | 'holdings';
  ledgerAccount: string;
  /** Cash: the ledger asset (currency); holdings: null (every security). */
  asset: string | null;
  createdAt: string;
  createdBy: string;
  rules: Rule[];
}

export interface LinkInput {
  statementAccount: string;
  ledgerAccount: string;
  asset?: string;
  /** Only needed when no statement of the account is stored yet (default cash). */
  kind?: 'cash' | 'holdings';
}

interface LinkRow { statement_account: string; kind: 'cash' | 'holdings'; ledger_account: string; asset: string | null; created_at: string; created_by: string }

async function rulesOf(db: Pool | Client, accounts: string[]): Promise<Map<string, Rule[]>> {
  const r = await db.query<{ statement_account: string; rule: string; params: Record<string, unknown> }>(
    'SELECT statement_account, rule, params FROM recon_rules WHERE statement_account = ANY($1) ORDER BY statement_account, position', [accounts]);
  const out = new Map<string, Rule[]>();
  for (const x of r.rows) {
    const list = out.get(x.statement_account) ?? [];
    list.push({ rule: x.rule, params: x.params } as Rule);
    out.set(x.statement_account, list);
  }
  return out;
}

const linkOf = (r: LinkRow, rules: Rule[]): Link => ({
  statementAccount: r.statement_account, kind: r.kind, ledgerAccount: r.ledger_account, asset: r.asset, createdAt: r.created_at, createdBy: r.created_by, rules,
});

/** Every link, with its rules. */
export async function listLinks(db: Pool | Client): Promise<Link[]> {
  const { rows } = await db.query<LinkRow>('SELECT * FROM recon_links ORDER BY statement_account');
  const rules = await rulesOf(db, rows.map((r) => r.statement_account));
  return rows.map((r) => linkOf(r, rules.get(r.statement_account) ?? []));
}

/**
 * The link of a statement account, or of a ledger account when only one statement account is
 * linked to it.
 * @throws DomainError RECON_NOT_LINKED (unexpected_state) when the statement account has statements
 *   but no link; RECON_ACCOUNT_UNKNOWN when neither a statement nor a link names it; RECON_ARGUMENT_INVALID
 *   when a ledger account is linked from several statement accounts
 */
export async function resolveLink(db: Pool | Client, account: string): Promise<Link> {
  const direct = await db.query<LinkRow>('SELECT * FROM recon_links WHERE statement_account = $1', [account]);
  let row = direct.rows[0];
  if (!row) {
    const byLedger = await db.query<LinkRow>('SELECT * FROM recon_links WHERE ledger_account = $1 ORDER BY statement_account', [account]);
    if (byLedger.rows.length > 1) {
      throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `ledger account ${account} is linked from ${byLedger.rows.length} statement accounts (${byLedger.rows.map((r) => r.statement_account).join(', ')}): name the statement account`);
    }
    row = byLedger.rows[0];
  }
  if (!row) {
    const st = await db.query('SELECT 1 FROM recon_statements WHERE account = $1 LIMIT 1', [account]);
    if (st.rowCount) {
      throw reconError(ReconCodes.NOT_LINKED, 'unexpected_state', `statement account ${account} is not linked to a ledger account yet: link it first (recon link ${account} --ledger-account ACCOUNT)`);
    }
    throw reconError(ReconCodes.ACCOUNT_UNKNOWN, 'not_found', `no statement and no link names the account ${account}`);
  }
  const rules = await rulesOf(db, [row.statement_account]);
  return linkOf(row, rules.get(row.statement_account) ?? defaultRules(row.kind));
}

/**
 * Link a statement account to a ledger account (cash) or prefix (custody). The kind comes from the
 * account's statements. The account gets the default rules. Linking again the same way changes
 * nothing. Audited (recon.link).
 * @throws DomainError RECON_LINK_CONFLICT (conflict) when linked otherwise already;
 *   RECON_LEDGER_ACCOUNT_UNKNOWN; RECON_ARGUMENT_INVALID (no currency to take the asset from, mixed kinds, unknown asset)
 */
export async function linkAccount(pool: Pool, input: LinkInput, ctx: Partial<ReconCtx> = {}): Promise<Link & { created: boolean }> {
  const { actor, clock } = ctxOf(ctx);
  const account = input.statementAccount.trim();
  const ledger = input.ledgerAccount.trim();
  if (!account) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', 'the statement account is empty');
  return withTx(pool, async (c) => {
    await lockAccount(c, account);
    const st = await c.query<{ kind: 'cash' | 'holdings'; currency: string | null }>('SELECT DISTINCT kind, currency FROM recon_statements WHERE account = $1', [account]);
    const kinds = [...new Set(st.rows.map((r) => r.kind))];
    if (kinds.length > 1) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `statement account ${account} has both cash and holdings statements: it cannot be one link`);
    if (input.kind && kinds[0] && input.kind !== kinds[0]) {
      throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `statement account ${account} has ${kinds[0]} statements, not ${input.kind}`);
    }
    const kind = kinds[0] ?? input.kind ?? 'cash';
    let asset: string | null = null;
    if (kind === 'cash') {
      const acc = await c.query('SELECT 1 FROM accounts WHERE name = $1', [ledger]);
      if (!acc.rowCount) throw reconError(ReconCodes.LEDGER_ACCOUNT_UNKNOWN, 'invalid', `ledger account ${ledger} does not exist (open it first)`);
      const currencies = [...new Set(st.rows.map((r) => r.currency).filter((x): x is string => !!x))];
      asset = input.asset ?? (currencies.length === 1 ? currencies[0]! : null);
      if (!asset) {
        throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', currencies.length > 1
          ? `statement account ${account} has statements in ${currencies.join(', ')}: name the asset (--asset)`
          : `no statement of ${account} names its currency: name the asset (--asset)`);
      }
      if ((await scaleOf(c, asset)) === null) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `asset ${asset} is not registered and is not an ISO 4217 currency`);
    } else {
      if (input.asset) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `a custody account links to every security under ${ledger}: --asset does not apply`);
      const acc = await c.query('SELECT 1 FROM accounts WHERE name = $1 OR name LIKE $2 LIMIT 1', [ledger, likePrefix(ledger)]);
      if (!acc.rowCount) throw reconError(ReconCodes.LEDGER_ACCOUNT_UNKNOWN, 'invalid', `no ledger account is named ${ledger} or lies under it`);
    }
    const old = (await c.query<LinkRow>('SELECT * FROM recon_links WHERE statement_account = $1', [account])).rows[0];
    if (old) {
      if (old.ledger_account === ledger && old.kind === kind && old.asset === asset) {
        const rules = await rulesOf(c, [account]);
        return { ...linkOf(old, rules.get(account) ?? []), created: false };
      }
      throw reconError(ReconCodes.LINK_CONFLICT, 'conflict', `statement account ${account} is already linked to ${old.ledger_account}${old.asset ? ` (${old.asset})` : ''}`);
    }
    const at = clock.now();
    const row: LinkRow = { statement_account: account, kind, ledger_account: ledger, asset, created_at: at.toISOString(), created_by: actor };
    await c.query('INSERT INTO recon_links (statement_account, kind, ledger_account, asset, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)',
      [account, kind, ledger, asset, row.created_at, actor]);
    const rules = defaultRules(kind);
    await writeRules(c, account, rules);
    await lockBooks(c);
    await appendAudit(c, [{ actor, action: 'recon.link', entity: 'recon_links', entityId: account, data: { kind, ledgerAccount: ledger, asset }, rowHash: sha256(canonical({ ...row, rules })), at }]);
    return { ...linkOf(row, rules), created: true };
  });
}

async function writeRules(c: Client, account: string, rules: Rule[]) {
  await c.query('DELETE FROM recon_rules WHERE statement_account = $1', [account]);
  await c.query(`INSERT INTO recon_rules (statement_account, position, rule, params)
    SELECT $1, p, r, x FROM unnest($2::int[], $3::text[], $4::jsonb[]) AS t(p, r, x)`,
  [account, rules.map((_, i) => i + 1), rules.map((r) => r.rule), rules.map((r) => JSON.stringify(r.params))]);
}

/**
 * Replace the rules of a linked account (ordered; parameters checked; missing ones take defaults).
 * Audited (recon.rules). Matches already made stay.
 * @throws DomainError RECON_RULE_INVALID; RECON_NOT_LINKED / RECON_ACCOUNT_UNKNOWN
 */
export async function setRules(pool: Pool, account: string, input: unknown, ctx: Partial<ReconCtx> = {}): Promise<Link> {
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    const link = await resolveLink(c, account);
    await lockAccount(c, link.statementAccount);
    const rules = parseRules(input, link.kind);
    await writeRules(c, link.statementAccount, rules);
    const at = clock.now();
    await lockBooks(c);
    await appendAudit(c, [{ actor, action: 'recon.rules', entity: 'recon_links', entityId: link.statementAccount, data: { rules }, rowHash: sha256(canonical(rules)), at }]);
    return { ...link, rules };
  });
}
