import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigFileError, readConfigFile, type ConfigFile } from './config-file.js';

/**
 * All configuration comes from the environment, validated here once.
 * Every problem is reported at once; secrets are never echoed back.
 */

const MIN_SECRET_BYTES = 32;

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1)
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${protocols.join(' or ')}`,
    )
    .optional();
const secret = z
  .string()
  .refine((v) => Buffer.byteLength(v, 'utf8') >= MIN_SECRET_BYTES, `must be at least ${MIN_SECRET_BYTES} bytes`)
  .optional();
const csv = z
  .string()
  .optional()
  .transform((v) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  );

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['production', 'development', 'test']).optional(),
    PORT: port.default(4000),
    // Unset: 0.0.0.0 in production, loopback otherwise (dev mode has dev sign-in and GraphiQL).
    HOST: z.string().min(1).optional(),
    DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
    DATABASE_POOL_SIZE: positiveInt.max(200).default(20),
    DATA_DIR: z.string().min(1).default('./.data'),
    DATABASE_REPLICA_URL: optionalUrl(['postgres:', 'postgresql:']),
    REDIS_URL: optionalUrl(['redis:', 'rediss:']),
    REDIS_CLUSTER_NODES: z
      .string()
      .trim()
      .min(1)
      .transform((v, ctx) => {
        const nodes = v.split(',').map((s) => s.trim());
        const parsed = nodes.map(parseHostPort);
        if (parsed.some((n) => n === undefined)) {
          const bad = nodes.filter((_, i) => parsed[i] === undefined);
          ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of host:port (port 1..65535); not understood: ${bad.map((b) => JSON.stringify(b)).join(', ')}` });
          return z.NEVER;
        }
        return parsed as ClusterNode[];
      })
      .optional(),
    REDIS_KEY_PREFIX: z.string().min(1).default('scoreboard:'),
    JWT_SECRET: secret,
    JWT_JWKS_URL: optionalUrl(['https:', 'http:']),
    JWT_ISSUER: z.string().min(1).default('scoreboard'),
    JWT_AUDIENCE: z.string().min(1).default('scoreboard-api'),
    JWT_ROLES_CLAIM: z.string().trim().min(1).max(100).default('roles'),
    PLAYER_ATTRIBUTE_CLAIMS: z
      .string()
      .default('country')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,39}$/, 'claim names are letters, digits and _ (1..40)')).max(20)),
    ACTION_TOKEN_SECRET: secret,
    ACTION_TOKEN_TTL_SECONDS: positiveInt.max(86_400).default(300),
    RATE_LIMIT_ACTIONS_PER_HOUR: positiveInt.default(100),
    RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(3600),
    RATE_LIMIT_TICKETS_PER_HOUR: positiveInt.optional(),
    RATE_LIMIT_REPLAYS_PER_HOUR: positiveInt.optional(),
    // Requests per second per client address (HTTP and SSE); 0 = off. Unset: 50 in production, else off.
    HTTP_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).optional(),
    LEADERBOARD_COALESCE_MS: z.coerce.number().int().min(0).max(5000).default(50),
    MAX_REQUEST_BYTES: positiveInt.default(64 * 1024),
    WS_MAX_CONNECTIONS_PER_IP: positiveInt.default(200),
    WS_MAX_CONNECTIONS_PER_PLAYER: positiveInt.default(10),
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt.max(10_000).default(100),
    // false (or 0): use the socket's address; true (= 1) or N: the client is the Nth X-Forwarded-For entry from the right.
    TRUST_PROXY: z
      .union([z.enum(['true', 'false']), z.coerce.number().int().min(0).max(10)], { message: 'must be true, false or a number of trusted hops (0..10)' })
      .default('false')
      .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : v)),
    JWT_MAX_AGE_SECONDS: positiveInt.default(86_400),
    JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
    // Entries of the warm views that each reconcile run checks beyond the recent changes (0 = none).
    RECONCILE_SWEEP_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(2_000),
    SHUTDOWN_GRACE_SECONDS: positiveInt.max(120).default(10),
    CORS_ORIGINS: csv,
    WS_ALLOWED_ORIGINS: csv,
    // Trusted documents (persisted operations): a manifest { "<sha256>": "<document>" }.
    TRUSTED_DOCUMENTS: z.string().trim().min(1).optional(),
    TRUSTED_DOCUMENTS_ONLY: z.enum(['true', 'false']).default('false'),
    // Public GET reads answered from memory (0 = off) and how long an entry may live at most.
    RESPONSE_CACHE_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
    RESPONSE_CACHE_MAX_AGE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // OpenTelemetry: the SDK reads the other OTEL_* variables itself (endpoint, protocol, sampler...).
    OTEL_TRACES_EXPORTER: z.string().trim().optional(),
    OTEL_SDK_DISABLED: z.enum(['true', 'false']).optional(),
    OTEL_SERVICE_NAME: z.string().trim().min(1).default('scoreboard'),
    // Path of a JSON or YAML file with actionTypes, boards and achievements, upserted at start-up.
    SCOREBOARD_CONFIG: z.string().trim().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: 'set either REDIS_URL (one Redis server) or REDIS_CLUSTER_NODES (Redis Cluster), not both' });
    }
    if (env.DATABASE_REPLICA_URL && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_REPLICA_URL'], message: 'needs DATABASE_URL (a replica of the embedded database does not exist)' });
    }
    if (env.JWT_SECRET && env.ACTION_TOKEN_SECRET && env.JWT_SECRET === env.ACTION_TOKEN_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['ACTION_TOKEN_SECRET'], message: 'must differ from JWT_SECRET' });
    }
    if (env.TRUSTED_DOCUMENTS_ONLY === 'true' && !env.TRUSTED_DOCUMENTS) {
      ctx.addIssue({ code: 'custom', path: ['TRUSTED_DOCUMENTS'], message: 'is required when TRUSTED_DOCUMENTS_ONLY=true (the manifest of accepted operations)' });
    }
    if (env.NODE_ENV !== 'production') return;
    if (!env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required in production (the embedded database is for trying Scoreboard out)' });
    }
    if (!env.JWT_SECRET && !env.JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'JWT_SECRET (>= 32 bytes) or JWT_JWKS_URL is required in production' });
    }
    if (!env.ACTION_TOKEN_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['ACTION_TOKEN_SECRET'], message: 'is required in production (>= 32 bytes)' });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export interface ClusterNode {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`; undefined when it is not one. */
function parseHostPort(value: string): ClusterNode | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9][A-Za-z0-9.-]*)):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

export interface Config {
  production: boolean;
  http: {
    port: number;
    host: string;
    corsOrigins: string[];
    maxRequestBytes: number;
    /**
     * Trusted proxy hops in front of us: 0 = the socket's address is the client;
     * N = the Nth X-Forwarded-For entry from the right (the one our own proxy added).
     */
    trustProxy: number;
    /** Requests per second per client address (HTTP and SSE); 0 = no limit. */
    ratePerIp: number;
    shutdownGraceSeconds: number;
  };
  /** maxPerIp / maxPerPlayer also count SSE and multipart subscription streams. */
  ws: { allowedOrigins: string[]; maxPerIp: number; maxPerPlayer: number; maxSubscriptionsPerSocket: number };
  /** replicaUrl: optional read replica for history reads (past periods, final standings). */
  database: { url?: string; replicaUrl?: string; poolSize: number; dataDir: string };
  /** Either one server (url) or a Redis Cluster (clusterNodes, the seed nodes); neither = in-process. */
  redis: { url?: string; clusterNodes?: ClusterNode[]; keyPrefix: string };
  jwt: {
    secret?: Uint8Array;
    /** True when JWT_SECRET or JWT_JWKS_URL was configured (not a generated dev secret): dev sign-in is then off. */
    configured: boolean;
    jwksUrl?: string;
    issuer: string;
    audience: string;
    maxAgeSeconds: number;
    clockSkewSeconds: number;
    /** Claim holding the caller's roles; "admin" in it makes an operator. */
    rolesClaim: string;
    /** Claims kept as player attributes (segments of segmented boards). */
    attributeClaims: string[];
  };
  actionToken: { secret: Uint8Array; ttlSeconds: number };
  rateLimit: { actionsPerWindow: number; ticketsPerWindow: number; replaysPerWindow: number; windowSeconds: number };
  /** `reconcileSweepEntries`: cache entries each reconcile run checks in its sweep of the warm views (0 = no sweep). */
  leaderboard: { coalesceMs: number; reconcileIntervalSeconds: number; reconcileSweepEntries: number };
  /**
   * Trusted documents by sha256 (from TRUSTED_DOCUMENTS), or undefined when none
   * are configured; `only`: free-form operations are refused.
   */
  trustedDocuments?: { path: string; documents: ReadonlyMap<string, string>; only: boolean };
  /** Public GET reads kept in memory: at most `entries`, each at most `maxAgeMs` old (0 entries = off). */
  responseCache: { entries: number; maxAgeMs: number };
  logLevel: Env['LOG_LEVEL'];
  /** On when OTEL_TRACES_EXPORTER names an exporter (not "none") and OTEL_SDK_DISABLED is not "true". */
  tracing: { enabled: boolean; serviceName: string };
  /** SCOREBOARD_CONFIG, read and shape-checked; applied at start-up (src/resolvers/operators/config-file.ts). */
  configFile?: ConfigFile;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError listing every problem. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" (docker-compose and shells produce them freely).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`));
  }
  const env = parsed.data;
  let configFile: ConfigFile | undefined;
  if (env.SCOREBOARD_CONFIG) {
    try {
      configFile = readConfigFile(env.SCOREBOARD_CONFIG);
    } catch (error) {
      if (error instanceof ConfigFileError) throw configFileProblem(error);
      throw error;
    }
  }
  const production = env.NODE_ENV === 'production';
  let trustedDocuments: Config['trustedDocuments'];
  if (env.TRUSTED_DOCUMENTS) {
    // Several manifests (comma-separated: the app's own and the client package's, say) are one set.
    const documents = new Map<string, string>();
    for (const path of env.TRUSTED_DOCUMENTS.split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const loaded = loadTrustedDocuments(path);
      if (typeof loaded === 'string') throw new ConfigError([`TRUSTED_DOCUMENTS: ${loaded}`]);
      for (const [hash, document] of loaded) documents.set(hash, document);
    }
    trustedDocuments = { path: env.TRUSTED_DOCUMENTS, documents, only: env.TRUSTED_DOCUMENTS_ONLY === 'true' };
  }
  const devSecret = (name: string) => (production ? undefined : loadOrCreateDevSecret(env.DATA_DIR, name));
  const jwtSecret = env.JWT_SECRET ?? (env.JWT_JWKS_URL ? undefined : devSecret('jwt-secret'));
  const actionSecret = env.ACTION_TOKEN_SECRET ?? devSecret('action-token-secret');
  return {
    production,
    http: {
      port: env.PORT,
      host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
      corsOrigins: env.CORS_ORIGINS,
      maxRequestBytes: env.MAX_REQUEST_BYTES,
      trustProxy: env.TRUST_PROXY,
      ratePerIp: env.HTTP_RATE_LIMIT_PER_IP ?? (production ? 50 : 0),
      shutdownGraceSeconds: env.SHUTDOWN_GRACE_SECONDS,
    },
    ws: {
      allowedOrigins: env.WS_ALLOWED_ORIGINS,
      maxPerIp: env.WS_MAX_CONNECTIONS_PER_IP,
      maxPerPlayer: env.WS_MAX_CONNECTIONS_PER_PLAYER,
      maxSubscriptionsPerSocket: env.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    },
    database: { url: env.DATABASE_URL, replicaUrl: env.DATABASE_REPLICA_URL, poolSize: env.DATABASE_POOL_SIZE, dataDir: env.DATA_DIR },
    redis: { url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES, keyPrefix: env.REDIS_KEY_PREFIX },
    jwt: {
      secret: jwtSecret ? new TextEncoder().encode(jwtSecret) : undefined,
      configured: Boolean(env.JWT_SECRET || env.JWT_JWKS_URL),
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      rolesClaim: env.JWT_ROLES_CLAIM,
      attributeClaims: env.PLAYER_ATTRIBUTE_CLAIMS,
      maxAgeSeconds: env.JWT_MAX_AGE_SECONDS,
      clockSkewSeconds: env.JWT_CLOCK_SKEW_SECONDS,
    },
    actionToken: { secret: new TextEncoder().encode(actionSecret), ttlSeconds: env.ACTION_TOKEN_TTL_SECONDS },
    rateLimit: {
      actionsPerWindow: env.RATE_LIMIT_ACTIONS_PER_HOUR,
      // Tickets expire after their TTL, so twice the action quota is enough for honest
      // clients (retries, abandoned actions) and still caps how many can be hoarded.
      ticketsPerWindow: env.RATE_LIMIT_TICKETS_PER_HOUR ?? env.RATE_LIMIT_ACTIONS_PER_HOUR * 2,
      // Retries of applied actions are legitimate (lost responses), so generous, but not free:
      // each one reads Postgres.
      replaysPerWindow: env.RATE_LIMIT_REPLAYS_PER_HOUR ?? env.RATE_LIMIT_ACTIONS_PER_HOUR * 10,
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
    },
    leaderboard: {
      coalesceMs: env.LEADERBOARD_COALESCE_MS,
      reconcileIntervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
      reconcileSweepEntries: env.RECONCILE_SWEEP_ENTRIES,
    },
    trustedDocuments,
    responseCache: { entries: env.RESPONSE_CACHE_ENTRIES, maxAgeMs: env.RESPONSE_CACHE_MAX_AGE_MS },
    logLevel: env.LOG_LEVEL,
    tracing: {
      enabled: env.OTEL_SDK_DISABLED !== 'true' && !!env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER.split(',').some((e) => e.trim() && e.trim() !== 'none'),
      serviceName: env.OTEL_SERVICE_NAME,
    },
    configFile,
  };
}

/** A configuration file's problems as a ConfigError (the process exits 78), each naming the file and the path. */
export function configFileProblem(error: ConfigFileError): ConfigError {
  return new ConfigError(error.problems.map((p) => `SCOREBOARD_CONFIG ${error.file}: ${p}`));
}

/**
 * Outside production a missing secret is generated once and kept in DATA_DIR, so
 * dev tokens survive restarts and several local instances sharing DATA_DIR agree.
 */
function loadOrCreateDevSecret(dataDir: string, name: string): string {
  const file = join(dataDir, `${name}.txt`);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (Buffer.byteLength(existing) >= MIN_SECRET_BYTES) return existing;
  } catch {
    // not created yet
  }
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(48).toString('base64url');
  try {
    writeFileSync(file, value, { mode: 0o600, flag: 'wx' });
    return value;
  } catch {
    // Another process created it first: use theirs.
    return readFileSync(file, 'utf8').trim();
  }
}

/**
 * Reads a trusted-documents manifest: a JSON object { "<sha256 hex>": "<document>" },
 * keys optionally written "sha256:<hex>" (what the codegen client preset writes
 * to sdk/generated/persisted-documents.json).
 * Every key must be the sha256 of its document, so an id names exactly one text.
 * Answers the documents, or why the file cannot be used.
 */
export function loadTrustedDocuments(path: string): Map<string, string> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return `cannot read ${path} as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return `${path} must hold a JSON object { "<sha256>": "<document>" }`;
  const documents = new Map<string, string>();
  for (const [key, document] of Object.entries(parsed)) {
    const hash = key.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(hash) || typeof document !== 'string') return `${path}: every key must be a sha256 (64 lowercase hex digits) and every value a document`;
    if (createHash('sha256').update(document).digest('hex') !== hash) return `${path}: ${hash} is not the sha256 of its document`;
    documents.set(hash, document);
  }
  return documents;
}

/** A URL fit for a log line: the password replaced. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
