import { signDevPlayerJwt } from '../src/auth/player-jwt.js';
import { loadConfig } from '../src/config.js';

/**
 * `npm run token -- <username> [playerId]`: prints a player JWT for trying the API.
 * Outside production only; it signs with the same JWT_SECRET the server uses
 * (from the environment or the dev secret in DATA_DIR).
 */
const config = loadConfig();
if (config.production) {
  console.error('npm run token is not available in production: get tokens from your identity provider.');
  process.exit(1);
}
const [username, id] = process.argv.slice(2);
if (!username) {
  console.error('usage: npm run token -- <username> [playerId]');
  process.exit(2);
}
console.log(await signDevPlayerJwt(config.jwt, { id: id ?? `dev-${username}`, username }));
