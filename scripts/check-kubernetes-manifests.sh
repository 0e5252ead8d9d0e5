#!/usr/bin/env bash
# Validates deploy/kubernetes/ with no cluster (none is reachable here). Prints one PASS/FAIL line per check and
# exits 1 when any fails:
#   1. `kubectl kustomize`: the kustomizations (deploy/kubernetes and the replicas overlay deploy/kubernetes-replicas) build (every resource file parses, names and images resolve);
#   2. `kubectl create --dry-run=client` of the built objects and of make-secrets.sh's Secrets: kubectl decodes
#      each object and maps its kind. kubectl needs the API server's discovery for that, so it is answered from
#      kubectl's own discovery cache, written from deploy/kubernetes/validate/discovery.json (no server involved);
#   3. the schema check (deploy/kubernetes/validate/validate.mjs: kubernetes-models' JSON schemas plus TypeScript's
#      unknown-field check, installed from the npm registry with the pinned lock file);
#   4. the same schema check must REJECT a copy with a misspelled field and a string where an integer is due.
# Not checked (needs a cluster): admission (Pod Security, quotas), server-side defaults, that images pull, that
# the probes pass, that the network plugin enforces the NetworkPolicy.
#   PYTH_ON_CACHE   where the validator's node_modules are installed (default /var/cache/pyth-on)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${PYTH_ON_CACHE:-/var/cache/pyth-on}"
log() { printf 'check-kubernetes-manifests: %s\n' "$*" >&2; }

apt_install() {
  [ "$(id -u)" -eq 0 ] || { log "need root to install: $*"; exit 1; }
  log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
missing=()
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
pass() { echo "check-kubernetes-manifests: PASS $*"; }
fail() { echo "check-kubernetes-manifests: FAIL $*"; failed=1; }

# The validator, installed once per lock file into the cache.
validator="$CACHE/kubernetes-validate"
lock_hash="$(cat deploy/kubernetes/validate/package.json deploy/kubernetes/validate/package-lock.json | sha256sum | cut -c1-16)"
if [ "$(cat "$validator/.installed" 2>/dev/null)" != "$lock_hash" ]; then
  log "installing the schema validator (npm ci) into $validator"
  rm -rf "$validator" && mkdir -p "$validator"
  cp deploy/kubernetes/validate/package.json deploy/kubernetes/validate/package-lock.json "$validator/"
  (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { log "error: npm ci failed"; exit 1; }
  echo "$lock_hash" >"$validator/.installed"
fi
cp deploy/kubernetes/validate/validate.mjs "$validator/"

# A kubeconfig for a server that does not exist, and kubectl's discovery cache for it.
server_key="127.0.0.1_9"
cat >"$work/kubeconfig" <<'YAML'
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: offline}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
YAML
node - "$work/cache/discovery/$server_key" deploy/kubernetes/validate/discovery.json <<'JS'
const fs = require("fs"), path = require("path");
const [dir, file] = process.argv.slice(2);
const kinds = JSON.parse(fs.readFileSync(file, "utf8"));
const groups = [];
for (const [gv, resources] of Object.entries(kinds)) {
  if (gv === "comment") continue;
  const [group, version] = gv.includes("/") ? gv.split("/") : ["", gv];
  groups.push({ name: group, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } });
  const target = path.join(dir, group, version);
  fs.mkdirSync(target, { recursive: true });
  fs.writeFileSync(path.join(target, "serverresources.json"), JSON.stringify({ kind: "APIResourceList", apiVersion: "v1", groupVersion: gv,
    resources: resources.map(([name, kind, namespaced]) => ({ name, singularName: "", namespaced, kind, verbs: ["create", "get", "list", "patch", "update", "delete", "watch"] })) }));
}
fs.writeFileSync(path.join(dir, "servergroups.json"), JSON.stringify({ kind: "APIGroupList", apiVersion: "v1", groups }));
JS
export KUBECONFIG="$work/kubeconfig"

# 1. kustomize build: the single-server base and the replicas overlay (several servers on PostgreSQL).
for dir in kubernetes kubernetes-replicas; do
  if kubectl kustomize "deploy/$dir" >"$work/$dir.yaml" 2>"$work/err"; then
    pass "kubectl kustomize deploy/$dir ($(grep -c '^kind:' "$work/$dir.yaml") objects)"
  else
    fail "kubectl kustomize deploy/$dir: $(cat "$work/err")"
  fi
done
deploy/kubernetes/make-secrets.sh >"$work/secrets.yaml"
PYTH_ON_DATABASE_URL='Host=db;Database=pyth_on;Username=pyth_on;Password=checked-offline' \
  deploy/kubernetes-replicas/make-server-secret.sh >"$work/server-secret.yaml"

# 2. client-side dry run, every object.
for file in kubernetes kubernetes-replicas secrets server-secret; do
  if kubectl create --dry-run=client --validate=false --cache-dir "$work/cache" -o name -f "$work/$file.yaml" \
      >"$work/names" 2>"$work/err" </dev/null; then
    pass "kubectl create --dry-run=client ($file: $(wc -l <"$work/names") objects: $(tr '\n' ' ' <"$work/names"))"
  else
    fail "kubectl create --dry-run=client ($file): $(cat "$work/err")"
  fi
done

# 3. schema check.
if node "$validator/validate.mjs" "$work/kubernetes.yaml" "$work/kubernetes-replicas.yaml" "$work/secrets.yaml" "$work/server-secret.yaml" >"$work/out" 2>&1; then
  pass "schema check: $(cat "$work/out")"
else
  fail "schema check:"; cat "$work/out"
fi

# 4. the schema check must catch mistakes.
sed -e '0,/readOnlyRootFilesystem/s//readOnlyRootFileSystem/' -e '0,/periodSeconds: 10/s//periodSeconds: "10s"/' \
  "$work/kubernetes.yaml" >"$work/broken.yaml"
if node "$validator/validate.mjs" "$work/broken.yaml" >"$work/out" 2>&1; then
  fail "schema check accepted a misspelled field and a string for an integer"
elif grep -q readOnlyRootFileSystem "$work/out" && grep -q "must be integer" "$work/out"; then
  pass "schema check rejects a misspelled field and a string for an integer"
else
  fail "schema check rejected the broken copy for another reason:"; cat "$work/out"
fi

exit "$failed"
