#!/usr/bin/env bash
# Prints the two Secrets the manifests expect, freshly generated, as YAML for `kubectl apply -f -`:
#   pyth-on-agent-token  key token: the agents' Agent:AuthToken = the server's PythOn:AgentToken (random, 44 chars)
#   pyth-on-agent-tls    tls.crt / tls.key: the agents' certificate for the headless Service's names;
#                        ca.crt: the CA the server trusts for them (a new one; its key is not kept)
#
#   deploy/kubernetes/make-secrets.sh [NAMESPACE] | kubectl apply -f -      (NAMESPACE default pyth-on)
# Nothing is written to disk but a temporary directory, removed on exit. Bring your own CA (cert-manager, ...)
# by creating pyth-on-agent-tls with the same three keys instead.
set -euo pipefail
NAMESPACE="${1:-pyth-on}"
SERVICE=pyth-on-agent
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=pyth-on agent CA" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$SERVICE.$NAMESPACE.svc" \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\n' \
  "$SERVICE" "$SERVICE" "$NAMESPACE" "$SERVICE" "$NAMESPACE" "$SERVICE" "$NAMESPACE" >"$work/ext.cnf"
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 825 \
  -extfile "$work/ext.cnf" -out "$work/tls.crt" 2>/dev/null

kubectl create secret generic pyth-on-agent-token --namespace "$NAMESPACE" --dry-run=client -o yaml \
  --from-literal=token="$(openssl rand -base64 33)"
echo "---"
kubectl create secret generic pyth-on-agent-tls --namespace "$NAMESPACE" --dry-run=client -o yaml \
  --from-file=tls.crt="$work/tls.crt" --from-file=tls.key="$work/tls.key" --from-file=ca.crt="$work/ca.crt"
