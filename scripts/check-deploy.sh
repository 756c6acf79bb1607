#!/usr/bin/env bash
# Offline checks of deploy/ (no cluster, no registry needed):
#   1. yamllint on deploy/, .github/, openapi/ (config: .yamllint)
#   2. kubectl kustomize renders deploy/base and every deploy/overlays/*
#   3. every rendered object validates against the Kubernetes schemas, and the
#      ServiceMonitor/PrometheusRule against the prometheus-operator ones (npm
#      kubernetes-models, @kubernetes-models/prometheus-operator, js-yaml;
#      installed into .cache/k8s-validate)
#   4. roster's probes are /health and /ready on 8080 (httpGet, or exec
#      `rosterd healthcheck --url` where it listens on loopback), its
#      securityContext is hardened, and each overlay changes what it should
#   5. every alert in deploy/monitoring has a runbook_url whose anchor exists
#      in docs/runbook.md; prometheusrule.yaml holds the same groups
#   6. promtool check rules + promtool test rules (promtool is taken from
#      Debian's prometheus package without installing it; skipped with a note
#      when that cannot be had)
#   7. with a rosterd binary ($1, else build/service/rosterd when present):
#      `rosterd check` accepts deploy/base/profiles, also laid out the way the
#      kubelet mounts a ConfigMap (symlinks into ..data/), and the probe paths
#      answer 200 from `rosterd serve --profiles profiles` on a free loopback
#      port, which then exits 0 on SIGTERM
#
# Usage: scripts/check-deploy.sh [PATH/TO/rosterd]
#        scripts/check-deploy.sh --sync-prometheusrule   (rewrite prometheusrule.yaml
#                                                         from roster-rules.yaml)
# Exit status: 0 when every check passed, 1 when any failed, 2 usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE=$ROOT/.cache/k8s-validate
OUT=$CACHE/rendered
RULES=deploy/monitoring/roster-rules.yaml
RULES_TEST=deploy/monitoring/roster-rules.test.yaml
PROMRULE=deploy/monitoring/prometheusrule.yaml
RUNBOOK=docs/runbook.md
K8S_MODELS_VERSION=4.5.1
PROM_MODELS_VERSION=4.4.4   # @kubernetes-models/prometheus-operator, same base as 4.5.1
JS_YAML_VERSION=4.1.0

sync_prometheusrule() {
  local tmp
  tmp=$(mktemp)
  sed -n '1,/^spec:$/p' "$PROMRULE" >"$tmp"
  # indent every non-empty line by two spaces under spec:
  sed -n '/^groups:/,$p' "$RULES" | sed 's/^./  &/' >>"$tmp"
  mv "$tmp" "$PROMRULE"
  echo "rewrote $PROMRULE from $RULES"
}

BINARY=""
case "${1:-}" in
  --sync-prometheusrule) sync_prometheusrule; exit 0 ;;
  -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
  -*) echo "usage: $0 [PATH/TO/rosterd] | --sync-prometheusrule" >&2; exit 2 ;;
  "") [ -x build/service/rosterd ] && BINARY=$ROOT/build/service/rosterd ;;
  *) BINARY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
     [ -x "$BINARY" ] || { echo "not an executable: $1" >&2; exit 2; } ;;
esac

PASSED=()
FAILED=()
# run_check NAME COMMAND...: run one check, record the outcome, go on
run_check() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    PASSED+=("$name")
  else
    echo "-- FAILED: $name"
    FAILED+=("$name")
  fi
}
note() { echo "NOTE: $*"; }
SKIPPED=()
# skip_check NAME REASON: a check this machine cannot run; scripts/test.sh
# counts the lines in $ROSTER_SKIP_FILE as skipped, with the reason.
skip_check() {
  echo "== $1"
  echo "-- SKIPPED: $2"
  SKIPPED+=("$1")
  [ -n "${ROSTER_SKIP_FILE:-}" ] && echo "deploy: $1: $2" >>"$ROSTER_SKIP_FILE"
  return 0
}

as_root_apt_install() {
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

# ------------------------------------------------------------------ tools
command -v yamllint >/dev/null || as_root_apt_install yamllint ||
  { echo "yamllint is missing (apt-get install yamllint)" >&2; exit 1; }
HAVE_KUBECTL=1
command -v kubectl >/dev/null || HAVE_KUBECTL=0
NO_KUBECTL="kubectl is not installed (Debian's kubernetes-client 1.20 cannot render these kustomizations); install kubectl >= 1.27 (it bundles kustomize) to enable"
command -v node >/dev/null && command -v npm >/dev/null || as_root_apt_install nodejs npm ||
  { echo "node and npm are missing" >&2; exit 1; }
command -v curl >/dev/null || as_root_apt_install curl || { echo "curl is missing" >&2; exit 1; }

mkdir -p "$OUT"
# the cache ignores itself, so nothing under .cache/ is ever committed
[ -f "$ROOT/.cache/.gitignore" ] || echo '*' >"$ROOT/.cache/.gitignore"

install_validator() {
  local pkg=$CACHE/node_modules/kubernetes-models/package.json
  local prom=$CACHE/node_modules/@kubernetes-models/prometheus-operator/package.json
  if ! grep -q "\"version\": \"$K8S_MODELS_VERSION\"" "$pkg" 2>/dev/null ||
    ! grep -q "\"version\": \"$PROM_MODELS_VERSION\"" "$prom" 2>/dev/null ||
    [ ! -d "$CACHE/node_modules/js-yaml" ]; then
    echo "installing kubernetes-models@$K8S_MODELS_VERSION" \
      "@kubernetes-models/prometheus-operator@$PROM_MODELS_VERSION js-yaml@$JS_YAML_VERSION into $CACHE"
    [ -f "$CACHE/package.json" ] || echo '{"private": true}' >"$CACHE/package.json"
    (cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error \
      "kubernetes-models@$K8S_MODELS_VERSION" "js-yaml@$JS_YAML_VERSION" \
      "@kubernetes-models/prometheus-operator@$PROM_MODELS_VERSION" >/dev/null)
  fi
  cp scripts/k8s-validate.mjs "$CACHE/k8s-validate.mjs"
}
validate() { node "$CACHE/k8s-validate.mjs" "$@"; }

# ------------------------------------------------------------------ 1. yamllint
YAML_DIRS=(deploy .yamllint)
for d in .github openapi; do [ -e "$d" ] && YAML_DIRS+=("$d"); done
run_check "yamllint ${YAML_DIRS[*]}" yamllint -s "${YAML_DIRS[@]}"

# ------------------------------------------------------------------ 2. render
TARGETS=(base)
for d in deploy/overlays/*/; do
  [ -f "$d/kustomization.yaml" ] && TARGETS+=("overlays/$(basename "$d")")
done
RENDERED=()
render() { kubectl kustomize "deploy/$1" >"$OUT/$2.yaml"; }
if [ "$HAVE_KUBECTL" -eq 1 ]; then
  for t in "${TARGETS[@]}"; do
    name=$(basename "$t")
    if run_check "kustomize deploy/$t" render "$t" "$name"; then
      RENDERED+=("$OUT/$name.yaml")
    fi
  done
else
  for t in "${TARGETS[@]}"; do
    skip_check "kustomize deploy/$t (and its schema, probe and overlay checks)" "$NO_KUBECTL"
  done
  # what can still be checked: the base's own manifests, as written
  RAW=$OUT/base-raw.yaml
  : >"$RAW"
  while read -r f; do
    printf -- '---\n' >>"$RAW"
    cat "deploy/base/$f" >>"$RAW"
  done < <(awk '/^resources:/ {on=1; next} /^[^ #-]/ {on=0} on && /^  - / {print $2}' deploy/base/kustomization.yaml)
fi

# ------------------------------------------------------------------ 3-5. node checks
if run_check "install schema validator (npm)" install_validator; then
  if [ "$HAVE_KUBECTL" -eq 1 ]; then
    run_check "schema: rendered manifests" validate schema "${RENDERED[@]}" deploy/monitoring/servicemonitor.yaml "$PROMRULE"
  else
    run_check "schema: deploy/base manifests as written, monitoring" validate schema "$RAW" deploy/monitoring/servicemonitor.yaml "$PROMRULE"
    run_check "probes and securityContext: deploy/base as written" validate probes "$RAW"
  fi
  for f in "${RENDERED[@]}"; do
    name=$(basename "$f" .yaml)
    run_check "probes and securityContext: $name" validate probes "$f"
    run_check "overlay expectations: $name" validate expect "$name" "$f"
  done
  run_check "alerts: runbook anchors and PrometheusRule sync" validate alerts "$RUNBOOK" "$RULES" "$PROMRULE"
fi

# ------------------------------------------------------------------ 6. promtool
find_promtool() {
  if command -v promtool >/dev/null; then command -v promtool; return 0; fi
  local dir=$CACHE/promtool
  if [ ! -x "$dir/usr/bin/promtool" ] && command -v apt-get >/dev/null; then
    rm -rf "$dir" && mkdir -p "$dir"
    local sandbox=()
    [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
    (cd "$dir" && apt-get "${sandbox[@]}" -qq download prometheus >/dev/null 2>&1) || return 1
    dpkg-deb --fsys-tarfile "$dir"/prometheus_*.deb | tar -x -C "$dir" ./usr/bin/promtool || return 1
    rm -f "$dir"/prometheus_*.deb
  fi
  [ -x "$dir/usr/bin/promtool" ] && echo "$dir/usr/bin/promtool"
}
if PROMTOOL=$(find_promtool); then
  run_check "promtool check rules" "$PROMTOOL" check rules "$RULES"
  run_check "promtool test rules" "$PROMTOOL" test rules "$RULES_TEST"
else
  skip_check "promtool check rules, promtool test rules" "promtool not available (no Debian prometheus package to take it from); install prometheus to enable"
fi

# ------------------------------------------------------------------ 7. binary
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

probe_binary() {
  local port paths path code deadline log=$OUT/rosterd.log profiles=profiles
  [ -d "$profiles" ] || { note "no profiles/ directory: serving deploy/base/profiles"; profiles=deploy/base/profiles; }
  paths=$(cat "$OUT"/*.paths 2>/dev/null | sort -u)
  [ -n "$paths" ] || paths=$'/health\n/ready'
  port=$(free_port) || { echo "no free port"; return 1; }
  "$BINARY" serve --listen "127.0.0.1:$port" --profiles "$profiles" 2>"$log" &
  SERVER_PID=$!
  for path in $paths; do
    deadline=$(( $(date +%s) + 15 ))
    while :; do
      code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$port$path" || true)
      [ "$code" = 200 ] && { echo "ok   GET $path -> 200"; break; }
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        local rc=0
        wait "$SERVER_PID" || rc=$?
        SERVER_PID=""
        echo "FAIL rosterd serve exited with status $rc before GET $path answered 200; its log:"
        tail -20 "$log"
        return 1
      fi
      [ "$(date +%s)" -lt "$deadline" ] || { echo "FAIL GET $path -> $code"; tail -20 "$log"; stop_server; return 1; }
      sleep 0.1
    done
  done
  # SIGTERM must end it cleanly (readiness 503, drain, exit 0)
  kill -TERM "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [ "$rc" -eq 0 ] || { echo "FAIL rosterd exited with $rc after SIGTERM"; tail -20 "$log"; return 1; }
  echo "ok   rosterd exited 0 after SIGTERM"
}

# The kubelet mounts a ConfigMap as symlinks into a hidden, timestamped
# directory: base.md -> ..data/base.md, ..data -> ..2026_01_01_00_00_00.1/.
# rosterd must follow the links and skip the dot directories (no duplicates).
configmap_layout() {
  local dir=$OUT/configmap-layout stamp='..2026_01_01_00_00_00.000000001' f n
  rm -rf "$dir" && mkdir -p "$dir/$stamp"
  cp deploy/base/profiles/*.md "$dir/$stamp/"
  ln -s "$stamp" "$dir/..data"
  for f in deploy/base/profiles/*.md; do ln -s "..data/$(basename "$f")" "$dir/$(basename "$f")"; done
  n=$(find deploy/base/profiles -maxdepth 1 -name '*.md' | wc -l)
  "$BINARY" check --profiles "$dir" --format json >"$OUT/configmap-check.json" || return 1
  # shellcheck disable=SC2016  # ${...} below is JavaScript, not shell
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const want = Number(process.argv[2]);
    if (r.profiles !== want || r.errors !== 0) {
      console.log(`FAIL ConfigMap layout: ${r.profiles} profiles (want ${want}), ${r.errors} errors`);
      process.exit(1);
    }
    console.log(`ok   ConfigMap layout: ${r.profiles} profiles, no errors`);' "$OUT/configmap-check.json" "$n"
}

if [ -n "$BINARY" ]; then
  # the probe paths the rendered manifests use
  for f in "${RENDERED[@]}"; do
    validate probes "$f" 2>/dev/null | awk '/^probe-path / {print $2}' >"${f%.yaml}.paths" || true
  done
  run_check "rosterd check --profiles deploy/base/profiles" "$BINARY" check --profiles deploy/base/profiles
  run_check "rosterd reads profiles from a ConfigMap volume layout" configmap_layout
  run_check "probe paths answer 200 from $BINARY" probe_binary
else
  note "no rosterd binary (pass one as \$1 or build build/service/rosterd): skipped the live probe check"
fi

# ------------------------------------------------------------------ summary
total=$(( ${#PASSED[@]} + ${#FAILED[@]} ))
if [ ${#SKIPPED[@]} -gt 0 ]; then
  echo "check-deploy: ${#SKIPPED[@]} checks skipped:"
  printf '  - %s\n' "${SKIPPED[@]}"
fi
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "check-deploy: ${#FAILED[@]} of $total checks FAILED:"
  printf '  - %s\n' "${FAILED[@]}"
  exit 1
fi
echo "check-deploy: all $total checks that ran passed"
