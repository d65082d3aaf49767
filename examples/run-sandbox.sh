#!/usr/bin/env bash
# Runs examples/complete against the offline sandbox on a fresh machine:
# builds the provider and the sandbox, starts the sandbox, installs the
# provider into a private filesystem mirror, then init, apply, a second plan
# (which must show no changes) and destroy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

cargo build --release --locked --bin terraform-provider-kiro --bin kiro-sandbox
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
work="$root/examples/complete/.kiro-example"
rm -rf "$work" examples/complete/.terraform examples/complete/.terraform.lock.hcl examples/complete/terraform.tfstate*
mkdir -p "$work/mirror/registry.terraform.io/kiro-entra/kiro/$version/linux_amd64"
cp target/release/terraform-provider-kiro \
  "$work/mirror/registry.terraform.io/kiro-entra/kiro/$version/linux_amd64/terraform-provider-kiro_v$version"
# hashicorp/aws (the example can publish the domain's TXT record in Route 53) comes from the
# machine's unpacked plugin mirror: nothing is downloaded.
plugins="${KIRO_TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
if [ ! -d "$plugins/registry.terraform.io/hashicorp/aws" ]; then
  echo "examples/complete needs hashicorp/aws from a filesystem mirror: none at" \
    "$plugins/registry.terraform.io/hashicorp/aws (set KIRO_TF_PLUGIN_MIRROR)" >&2
  exit 1
fi
cat > "$work/terraform.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/kiro-entra/kiro"]
  }
  filesystem_mirror {
    path    = "$plugins"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
TFRC

port="${KIRO_SANDBOX_PORT:-8787}"
target/release/kiro-sandbox --listen "127.0.0.1:$port" > "$work/sandbox.out" 2> "$work/sandbox.log" &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q KIRO_SANDBOX_DNS "$work/sandbox.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^KIRO_SANDBOX_URL=//p' "$work/sandbox.out")"
[ -n "$url" ] || { echo "the sandbox did not start; see $work/sandbox.log" >&2; exit 1; }
echo "sandbox at $url"

# The sandbox's default tenant and the identity Terraform runs as.
export ARM_TENANT_ID=00000000-0000-4000-8000-000000000001
export ARM_CLIENT_ID=00000000-0000-4000-8000-0000000000c1
export ARM_CLIENT_SECRET=sandbox-secret
export KIRO_ENDPOINT_LOGIN="$url/login"
export KIRO_ENDPOINT_GRAPH="$url/graph"
export KIRO_ENDPOINT_KIRO="$url/kiro"
# Kiro: an AWS account of the sandbox (its keys sign the Kiro calls), the
# sandbox's DNS stub for the provider's lookups, and domains that verify by
# themselves after 2 s (in real life: publish the TXT record).
account="$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "$url/_sandbox/aws/accounts")"
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
export AWS_ACCESS_KEY_ID="$(json_field access_key_id <<<"$account")"
export AWS_SECRET_ACCESS_KEY="$(json_field secret_access_key <<<"$account")"
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export KIRO_DNS_RESOLVER="$(sed -n 's/^KIRO_SANDBOX_DNS=//p' "$work/sandbox.out")"
curl -fsS -X PUT -H 'Content-Type: application/json' -d '{"domain_auto_verify_ms": 2000}' \
  "$url/_sandbox/settings" > /dev/null
# The sandbox's default tenant's seeded group and user, and a domain (no Route 53 zone: the
# sandbox verifies domains by itself).
export TF_VAR_kiro_group="Kiro Developers"
export TF_VAR_kiro_user="dave@kirosandbox.onmicrosoft.com"
export TF_VAR_company_domain="kirosandbox.example"
export TF_CLI_CONFIG_FILE="$work/terraform.tfrc"
export CHECKPOINT_DISABLE=1

cd examples/complete
terraform init -input=false -no-color
terraform apply -input=false -auto-approve -no-color
terraform plan -input=false -detailed-exitcode -no-color
terraform destroy -input=false -auto-approve -no-color
echo "example complete: created, re-planned with no changes, destroyed"
