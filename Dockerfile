# Scoreboard API image.
#
#   docker build -t scoreboard .
#   docker run --rm -p 4000:4000 --env-file .env scoreboard
#
# Two stages: `build` installs every dependency and runs the project's own
# `prepare` script (Prisma client, typed SDK, web assets); `runtime` receives
# only what the server needs, owned by root and read-only to the unprivileged
# user that runs it. Nothing is downloaded when the container starts.
#
# Pin the base image by digest in your own registry/CI for reproducible builds,
# e.g. node:24-bookworm-slim@sha256:<digest>.

FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1

# Dependencies first, so this layer is reused until the lockfile changes.
# --ignore-scripts: no dependency install script runs (Prisma's engines
# postinstall would try to download a native engine we never use; the client
# is WASM + driver adapter). Our own `prepare` runs explicitly below, after
# the sources it reads are copied in.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts

# Same steps as `npm ci` runs locally through `prepare`: prisma generate
# (offline), graphql-codegen, and the web build when the script includes it.
COPY . .
RUN npm run prepare

# Production dependencies only. The server runs TypeScript through tsx, so tsx
# (and its esbuild) is promoted to a runtime dependency in this image's copy
# of package.json before pruning; a no-op once tsx is a regular dependency.
RUN node -e "const fs=require('node:fs');const p=JSON.parse(fs.readFileSync('package.json','utf8'));if(p.devDependencies&&p.devDependencies.tsx){p.dependencies={...p.dependencies,tsx:p.devDependencies.tsx};delete p.devDependencies.tsx;fs.writeFileSync('package.json',JSON.stringify(p,null,2)+'\n')}" \
 && npm prune --omit=dev --ignore-scripts \
 && node -e "import('tsx/esm/api').then(()=>console.log('tsx ok'))"

# Assemble exactly what the runtime needs in /out (web/dist only if built).
RUN mkdir -p /out \
 && cp -a package.json package-lock.json tsconfig.json node_modules src prisma scripts /out/ \
 && if [ -d web/dist ]; then cp -a --parents web/dist /out/; fi


FROM node:24-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="scoreboard" \
      org.opencontainers.image.description="Scoreboard GraphQL leaderboard API (HTTP, SSE and WebSocket on /graphql)"
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    npm_config_update_notifier=false \
    CHECKPOINT_DISABLE=1

# Root-owned files: the `node` user (uid 1000) can read and run the app but
# not modify it. The app writes nothing but tsx's cache under /tmp.
COPY --from=build /out/ /app/

USER node
EXPOSE 4000

# Liveness only (process up). Orchestrators should gate traffic on /readyz,
# which also checks Postgres and Redis (docker-compose.yml does).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM itself; the app then stops
# accepting, drains, closes WebSockets with 1001 and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]
