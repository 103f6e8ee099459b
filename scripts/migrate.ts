import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
const config = loadConfig();
const db = await openDatabase(config.database);
try {
  const applied = await db.migrate();
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
} finally {
  await db.close();
}
