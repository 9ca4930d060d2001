# papgate: HTTP provisioning + admin API + SIP service (registrar, call router, IVR via FreeSWITCH).
# Node.js 24.22.3 on Debian 12 (bookworm): the Node.js the test command runs every suite on
# (PAPGATE_NODE in scripts/runtime.sh; test/images.test.ts holds the two together), and the Debian
# release whose redis-server 7.0.15 the tests run against.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY web ./web
RUN npx tsc -p tsconfig.json && npm run build:console

FROM node:24.22.3-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json* ./
RUN npm ci --omit=dev
COPY --from=build /app/dist ./dist
COPY src/store/lua ./src/store/lua
COPY config ./config
# Prompts live at /app/prompts; docker-compose mounts the same directory into FreeSWITCH at the
# same path, because FreeSWITCH opens PROMPTS_DIR/<language>/<name>.wav by absolute path.
COPY prompts ./prompts
ENV PROMPTS_DIR=/app/prompts
# DATA_DIR (generated admin token, embedded Redis): owned by the user the service runs as, so a
# named volume mounted here starts with that ownership too.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# umask 077: the embedded Redis socket, the generated admin token and anything else papgate writes
# are its user's only.
CMD ["sh", "-c", "umask 077 && exec node dist/src/main.js"]
