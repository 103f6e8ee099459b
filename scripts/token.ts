import { parseArgs } from 'node:util';
import { signDevPlayerJwt } from '../src/auth/player-jwt.js';
import { loadConfig } from '../src/config.js';

/**
 * `npm run token -- <username> [playerId] [--admin] [--country DE]`: prints a
 * player JWT for trying the API; `--admin` adds the operator role, `--country`
 * (and any other `--attr name=value`) the attribute claims boards segment by.
 * Outside production only; it signs with the same JWT_SECRET the server uses
 * (from the environment or the dev secret in DATA_DIR).
 */
const config = loadConfig();
if (config.production) {
  console.error('npm run token is not available in production: get tokens from your identity provider.');
  process.exit(1);
}
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    admin: { type: 'boolean', default: false },
    country: { type: 'string' },
    attr: { type: 'string', multiple: true, default: [] },
  },
});
const [username, id] = positionals;
if (!username) {
  console.error('usage: npm run token -- <username> [playerId] [--admin] [--country DE] [--attr name=value ...]');
  process.exit(2);
}
const attributes: Record<string, string> = {};
if (values.country) attributes.country = values.country;
for (const pair of values.attr) {
  const at = pair.indexOf('=');
  if (at < 1) {
    console.error(`--attr takes name=value, got "${pair}"`);
    process.exit(2);
  }
  attributes[pair.slice(0, at)] = pair.slice(at + 1);
}
console.log(await signDevPlayerJwt(config.jwt, { id: id ?? `dev-${username}`, username, roles: values.admin ? ['admin'] : undefined, attributes }));
