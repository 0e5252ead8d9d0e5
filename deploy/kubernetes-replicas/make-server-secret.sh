#!/usr/bin/env bash
# Prints the Secret pyth-on-server-keys the replicas overlay expects, as YAML for `kubectl apply -f -`:
#   connection-string  the Npgsql connection string, from $PYTH_ON_DATABASE_URL (required)
#   secrets-key        PythOn:SecretsKey, 32 random bytes (base64): encrypts users' secrets at rest
#   jwt-signing-key    PythOn:Jwt:SigningKey, 32 random bytes (base64): signs access tokens
# Every replica reads the same Secret, so they decrypt the same secrets and accept each other's tokens.
# Run it ONCE and back the Secret up with the database: a new secrets-key leaves every stored secret undecryptable,
# a new jwt-signing-key signs everyone out. To change only the connection string, patch that key of the Secret.
#
#   PYTH_ON_DATABASE_URL='Host=db;Database=pyth_on;Username=pyth_on;Password=...' \
#     deploy/kubernetes-replicas/make-server-secret.sh [NAMESPACE] | kubectl apply -f -      (NAMESPACE default pyth-on)
set -euo pipefail
NAMESPACE="${1:-pyth-on}"
: "${PYTH_ON_DATABASE_URL:?set PYTH_ON_DATABASE_URL to the Npgsql connection string of the shared database}"
kubectl create secret generic pyth-on-server-keys --namespace "$NAMESPACE" --dry-run=client -o yaml \
  --from-literal=connection-string="$PYTH_ON_DATABASE_URL" \
  --from-literal=secrets-key="$(openssl rand -base64 32)" \
  --from-literal=jwt-signing-key="$(openssl rand -base64 32)"
