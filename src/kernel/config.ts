import { z } from 'zod';
import path from 'node:path';

/** Everything configurable, parsed once at start and passed down. No module reads process.env. */
export const ConfigSchema = z.object({
  /** Folder of the embedded database and other local state. */
  dataDir: z.string().min(1).default('./data'),
  /** A PostgreSQL server (15 or later); when absent, the embedded engine is used. */
  databaseUrl: z.string().url().optional(),
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Session lifetime in hours. */
  sessionHours: z.coerce.number().positive().default(12),
  /** Set Secure on cookies (behind TLS). */
  secureCookies: z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1').default(false),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The firm's BIC and safekeeping account at the CSD, for settlement instructions. */
  firmBic: z.string().optional(),
  safekeepingAccount: z.string().optional(),
  /** Maximum entries grouped into one transaction by the HTTP posting queue. */
  groupCommitMax: z.coerce.number().int().min(1).default(500),
  /** The firm's reporting (functional) currency: financial statements and FX revaluation are in it. */
  baseCurrency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').default('USD'),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Build the config from an environment map and explicit overrides (CLI flags win). */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Config> = {}): Config {
  const raw = {
    dataDir: env.BACKOFFICE_DATA,
    databaseUrl: env.DATABASE_URL || undefined,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    secureCookies: env.SECURE_COOKIES,
    firmBic: env.BACKOFFICE_BIC,
    safekeepingAccount: env.BACKOFFICE_SAFEKEEPING_ACCOUNT,
    baseCurrency: env.BACKOFFICE_BASE_CURRENCY,
  };
  const defined = Object.fromEntries(Object.entries({ ...raw, ...overrides }).filter(([, v]) => v !== undefined));
  const cfg = ConfigSchema.parse(defined);
  return { ...cfg, dataDir: path.resolve(cfg.dataDir) };
}
