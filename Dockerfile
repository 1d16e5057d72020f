# syntax=docker/dockerfile:1
# Build stage: compiles TypeScript and the better-sqlite3 native addon.
FROM node:20-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY protocols ./protocols
RUN npm run build && npm prune --omit=dev

# Runtime stage: only the compiled code, production dependencies and the example configs.
FROM node:20-slim
ENV NODE_ENV=production JITGATE_DATA_DIR=/var/lib/jitgate \
    JITGATE_API_ADDR=0.0.0.0:7480 JITGATE_PG_ADDR=0.0.0.0:7432 JITGATE_MYSQL_ADDR=0.0.0.0:7306
RUN groupadd --system jitgate && useradd --system --gid jitgate --home-dir /var/lib/jitgate jitgate \
    && mkdir -p /var/lib/jitgate && chown jitgate:jitgate /var/lib/jitgate
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
USER jitgate
EXPOSE 7480 7432 7306
# Liveness only (/livez never waits on a dependency): a Vault or store outage must not get the container restarted,
# which would cut every live session. Readiness is /readyz (README "Health checks").
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:7480/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/jitgate.js"]
CMD ["serve", "--config", "config/jitgate.yaml"]
