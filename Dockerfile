# syntax=docker/dockerfile:1
# Hourglass hub: serves the built PWA, the REST API and Socket.IO on one port.
# Build:  docker build -t hourglass .
# Run:    docker run -p 3000:3000 -e PUBLIC_ORIGIN=http://localhost:3000 -v hourglass-data:/data hourglass
#         (with no MONGODB_URI it runs the embedded FerretDB over PostgreSQL, from npm, under /data; see docs/OPERATIONS.md)

# 1. FerretDB, the embedded database used when no MONGODB_URI is given: a static Go binary.
FROM golang:1.24-bookworm AS ferretdb
WORKDIR /src
COPY tools/ferretdb/go.mod tools/ferretdb/go.sum ./
RUN go mod download
COPY tools/ferretdb/ ./
RUN CGO_ENABLED=0 go build -trimpath -o /out/ferretdb .

# 2. The PWA, built with every dev dependency.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# 3. The runtime: production dependencies only (tsx runs the TypeScript hub), no compilers, non-root.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --omit=dev leaves out the `node` dev dependency: the image's own Node 24 runs everything.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/build ./build
# The CLI bundle (scripts/build-cli.ts): `node bin/hourglass.js` starts without compiling TypeScript.
COPY --from=build /app/dist ./dist
COPY --from=ferretdb /out/ferretdb ./.tools/ferretdb
COPY server ./server
COPY src/lib ./src/lib
COPY cli ./cli
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
# tsx as a loader inside one Node process (not the tsx CLI, which adds a parent process), so
# `docker stop`'s SIGTERM reaches the hub itself, which then stops the database it started.
# --max-semi-space-size: see HUB_NODE_FLAGS in tests/helpers/hub.ts (the same flags in tests and benches).
CMD ["node", "--max-semi-space-size=4", "--import", "tsx", "server/main.ts"]
