#!/usr/bin/env bash
# Checks what a new user and a package consumer get, with nothing but the npm registry:
# 1. a fresh clone of this repository, after the README's install command (`npm install`), runs
#    `npx batchd --help` and `npx batchd serve` until `/health` answers;
# 2. `npm pack` of @batchd/sdk and @batchd/server, installed into an empty folder, runs
#    `npx batchd serve` (answering `/health` and the dashboard at `/`), and
#    `import { BatchdClient } from '@batchd/sdk'` works against it.
set -euo pipefail

repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
work="$(mktemp -d "${TMPDIR:-/tmp}/batchd-fresh-clone.XXXXXX")"
server_pid=""

stop_server() {
  if [ -n "$server_pid" ]; then
    # Its group, once setsid has made one; before that, the process itself.
    kill -- "-$server_pid" 2>/dev/null || kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "check-fresh-clone: $*"; }

# Polls URL until it answers 200 with a body containing TEXT (60 s at most).
expect_answer() {
  node --input-type=module -e '
    const [url, text] = process.argv.slice(1);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const body = await fetch(url).then((r) => (r.ok ? r.text() : ""), () => "");
      if (body.includes(text)) break;
      if (Date.now() > deadline) throw new Error(`${url} did not answer with ${JSON.stringify(text)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }' "$1" "$2"
}

# Starts `npx batchd serve` in the current folder on a free port, in a process group of its own,
# and sets `url` once it prints the address it listens on.
start_server() {
  local log="$work/serve-$1.log"
  # Made before the server starts, so the first look at it never finds it missing.
  : >"$log"
  setsid npx batchd serve --port 0 --db "$work/$1.sqlite" >"$log" 2>&1 &
  server_pid=$!
  url=""
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^batchd listening on \(http[^ ]*\)$/\1/p' "$log")"
    [ -n "$url" ] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  cat "$log" >&2
  echo "check-fresh-clone: batchd serve did not start" >&2
  return 1
}

step "cloning $repo"
git clone --quiet --no-checkout "$repo" "$work/clone"
cd "$work/clone"
git checkout --quiet --detach "$(git -C "$repo" rev-parse HEAD)"
step "npm install (the README's install command)"
npm install --no-audit --no-fund
npx batchd --help >/dev/null
start_server clone
expect_answer "$url/health" '"ok"'
stop_server
step "fresh clone: npx batchd --help and npx batchd serve work"

mkdir "$work/packs" "$work/app"
npm pack --silent -w @batchd/sdk -w @batchd/server --pack-destination "$work/packs" >/dev/null
cd "$work/app"
step "installing the packed @batchd/sdk and @batchd/server into an empty folder"
npm install --no-audit --no-fund "$work"/packs/batchd-sdk-*.tgz "$work"/packs/batchd-server-*.tgz
start_server app
expect_answer "$url/health" '"ok"'
expect_answer "$url/" '<div id="app">'
node --input-type=module -e '
  import { BatchdClient } from "@batchd/sdk";
  const client = new BatchdClient({ baseURL: process.argv[1], apiKey: "any-key" });
  const page = await client.messages.batches.list();
  if (!Array.isArray(page.data)) throw new Error("list did not answer a page");' "$url"
stop_server
step "packed install: npx batchd serve answers /health and /, @batchd/sdk imports and calls it"
