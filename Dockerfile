# syntax=docker/dockerfile:1
# The gateway with its embedded models. Build: docker build -t fin-intel-gateway .
# Node 20 on Debian 12, as the project is developed and tested on.

# Compiles the TypeScript (all dependencies, dev included).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source.
RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json ./
COPY src src
COPY scripts scripts
COPY deploy deploy
RUN npx tsc -p .

# Production dependencies only: the build's node_modules pruned (its native addons are kept, not rebuilt).
FROM build AS deps
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY src/server/graphiql-start.js src/server/graphiql-start.js
COPY examples examples
COPY models models
RUN mkdir -p data && chown node:node data
USER node
EXPOSE 4000
# Ready only when every required model has answered its warm-up inference. bash's /dev/tcp, not a second node
# process every 10 s; models load in about 30 s on two busy cores, so the start period leaves room.
HEALTHCHECK --interval=10s --timeout=3s --start-period=90s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-4000} && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# node itself, not npm: SIGTERM from the container runtime reaches the gateway, which drains and exits 0.
CMD ["node", "dist/src/main.js"]
