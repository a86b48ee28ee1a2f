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
RUN npx tsc -p .

# Production dependencies only, native addons built here too.
FROM build AS deps
RUN npm ci --omit=dev

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
# Ready only when every required model has answered its warm-up inference.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node itself, not npm: SIGTERM from the container runtime reaches the gateway, which drains and exits 0.
CMD ["node", "dist/src/main.js"]
