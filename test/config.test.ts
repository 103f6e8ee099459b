import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const strong = 'x'.repeat(40);
const strong2 = 'y'.repeat(40);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has working defaults outside production (embedded backends, generated dev secrets)', () => {
    const dir = `/tmp/sb-config-${process.pid}`;
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.http.port).toBe(4000);
    expect(config.http.host).toBe('127.0.0.1'); // dev mode listens on loopback unless HOST is set
    expect(config.database.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.jwt.issuer).toBe('scoreboard');
    expect(config.jwt.audience).toBe('scoreboard-api');
    expect(config.actionToken.ttlSeconds).toBe(300);
    expect(config.rateLimit.actionsPerWindow).toBe(100);
    expect(config.jwt.secret!.byteLength).toBeGreaterThanOrEqual(32);
    // Kept in DATA_DIR: the same secrets on the next start.
    const again = loadConfig({ DATA_DIR: dir });
    expect(Buffer.from(again.jwt.secret!).equals(Buffer.from(config.jwt.secret!))).toBe(true);
    expect(Buffer.from(again.actionToken.secret).equals(Buffer.from(config.jwt.secret!))).toBe(false);
  });

  it('hostile-client defaults: loopback in dev, 0.0.0.0 in production; HTTP limit 50/s in production, off in dev; caps and JWT bounds', () => {
    const dir = `/tmp/sb-config-${process.pid}`;
    const dev = loadConfig({ DATA_DIR: dir });
    expect(dev.http).toMatchObject({ host: '127.0.0.1', trustProxy: 0, ratePerIp: 0 });
    expect(dev.ws.maxSubscriptionsPerSocket).toBe(100);
    expect(dev.jwt).toMatchObject({ configured: false, maxAgeSeconds: 86_400, clockSkewSeconds: 60 });
    expect(dev.rateLimit.replaysPerWindow).toBe(1_000);
    const prod = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/x', JWT_SECRET: strong, ACTION_TOKEN_SECRET: strong2 });
    expect(prod.http).toMatchObject({ host: '0.0.0.0', ratePerIp: 50 });
    expect(prod.jwt.configured).toBe(true);
    expect(loadConfig({ DATA_DIR: dir, HOST: '0.0.0.0', HTTP_RATE_LIMIT_PER_IP: '7' }).http).toMatchObject({ host: '0.0.0.0', ratePerIp: 7 });
    expect(loadConfig({ DATA_DIR: dir, TRUST_PROXY: 'true' }).http.trustProxy).toBe(1);
    expect(loadConfig({ DATA_DIR: dir, TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ DATA_DIR: dir, TRUST_PROXY: 'false' }).http.trustProxy).toBe(0);
    expect(problems({ DATA_DIR: dir, TRUST_PROXY: 'yes' }).join('\n')).toMatch(/TRUST_PROXY/);
  });

  it('lists every problem at once', () => {
    const list = problems({ PORT: 'abc', DATABASE_URL: 'mysql://x', REDIS_URL: 'nope', ACTION_TOKEN_TTL_SECONDS: '-1', JWT_SECRET: 'short' });
    expect(list.join('\n')).toMatch(/PORT/);
    expect(list.join('\n')).toMatch(/DATABASE_URL/);
    expect(list.join('\n')).toMatch(/REDIS_URL/);
    expect(list.join('\n')).toMatch(/ACTION_TOKEN_TTL_SECONDS/);
    expect(list.join('\n')).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(list.length).toBeGreaterThanOrEqual(5);
  });

  it('refuses production without DATABASE_URL and real secrets, naming each', () => {
    const list = problems({ NODE_ENV: 'production' }).join('\n');
    expect(list).toMatch(/DATABASE_URL: is required in production/);
    expect(list).toMatch(/JWT_SECRET/);
    expect(list).toMatch(/ACTION_TOKEN_SECRET: is required in production/);
  });

  it('refuses weak secrets in production and never echoes them', () => {
    const error = (() => {
      try {
        loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/x', JWT_SECRET: 'hunter2-weak', ACTION_TOKEN_SECRET: 'also-weak' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(error!.message).toMatch(/ACTION_TOKEN_SECRET: must be at least 32 bytes/);
    expect(error!.message).not.toContain('hunter2');
  });

  it('refuses the same key for player JWTs and action tickets', () => {
    expect(problems({ JWT_SECRET: strong, ACTION_TOKEN_SECRET: strong }).join()).toMatch(/ACTION_TOKEN_SECRET: must differ/);
  });

  it('accepts a complete production config (JWKS instead of a shared secret too)', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/x', JWT_SECRET: strong, ACTION_TOKEN_SECRET: strong2 });
    expect(config.production).toBe(true);
    const jwks = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://db/x',
      JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      ACTION_TOKEN_SECRET: strong2,
    });
    expect(jwks.jwt.secret).toBeUndefined();
    expect(jwks.jwt.jwksUrl).toContain('jwks.json');
  });

  it('a production process exits with the problems listed', async () => {
    const { spawnSync } = await import('node:child_process');
    const out = spawnSync('npx', ['tsx', 'src/main.ts'], {
      env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: '', JWT_SECRET: 'weak', ACTION_TOKEN_SECRET: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.status).toBe(78);
    expect(out.stderr).toMatch(/Invalid configuration/);
    expect(out.stderr).toMatch(/DATABASE_URL/);
    expect(out.stderr).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(out.stderr).not.toContain('weak\n');
  });

  it('scale-out: REDIS_CLUSTER_NODES is a list of host:port seeds, DATABASE_REPLICA_URL a Postgres URL; either misused is listed', () => {
    const dir = `/tmp/sb-config-${process.pid}`;
    const config = loadConfig({
      DATA_DIR: dir,
      REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b:7001,[::1]:7002 ',
      DATABASE_URL: 'postgresql://db/x',
      DATABASE_REPLICA_URL: 'postgresql://replica/x',
    });
    expect(config.redis.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.redis.url).toBeUndefined();
    expect(config.database.replicaUrl).toBe('postgresql://replica/x');
    for (const bad of ['redis-a', 'redis-a:', ':7000', 'redis-a:0', 'redis-a:70000', 'redis://a:7000', 'a:7000,,b:7001', 'a:7000;b:7001']) {
      expect(problems({ DATA_DIR: dir, REDIS_CLUSTER_NODES: bad }).join('\n')).toMatch(/REDIS_CLUSTER_NODES: must be a comma-separated list of host:port/);
    }
    expect(problems({ DATA_DIR: dir, REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://a:6379' }).join('\n')).toMatch(/REDIS_CLUSTER_NODES: set either REDIS_URL/);
    expect(problems({ DATA_DIR: dir, DATABASE_REPLICA_URL: 'postgresql://replica/x' }).join('\n')).toMatch(/DATABASE_REPLICA_URL: needs DATABASE_URL/);
    expect(problems({ DATA_DIR: dir, DATABASE_URL: 'postgresql://db/x', DATABASE_REPLICA_URL: 'mysql://replica/x' }).join('\n')).toMatch(/DATABASE_REPLICA_URL/);
  });

  it('a malformed REDIS_CLUSTER_NODES stops the process at start-up with exit code 78 and says what is wrong', async () => {
    const { spawnSync } = await import('node:child_process');
    const out = spawnSync('npx', ['tsx', 'src/main.ts'], {
      env: { ...process.env, DATA_DIR: `/tmp/sb-config-${process.pid}`, REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.status).toBe(78);
    expect(out.stderr).toMatch(/REDIS_CLUSTER_NODES: must be a comma-separated list of host:port \(port 1..65535\); not understood: "127.0.0.1"/);
  });
});
