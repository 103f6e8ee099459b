import { defineConfig } from 'prisma/config';

// Prisma 7 keeps the connection URL out of schema.prisma. Only `prisma generate`
// runs here (the app connects through driver adapters), so a URL is optional.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/scoreboard' },
});
