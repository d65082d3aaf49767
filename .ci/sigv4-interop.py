#!/usr/bin/env python3
"""SigV4 interoperability of the sandbox's Kiro admin API, checked with an independent signer.

The provider signs with the Rust `aws-sigv4` crate and the sandbox verifies with its own
canonical request; both could share a misreading of the spec. This signs requests with
botocore (AWS's own Python implementation, from PyPI) instead: a correctly signed ListProfiles
must be accepted, and the same request with one body byte changed must be refused with
InvalidSignatureException.

Usage: .ci/sigv4-interop.py [--sandbox PATH]   (build it first: cargo build -p kiro-sandbox)
botocore is installed with pip into a venv under the cargo target directory on first use.
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import venv
from pathlib import Path

BOTOCORE = "botocore==1.44.5"
ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")

# Runs inside the venv: signs with botocore, sends with urllib, prints one JSON line per case.
SIGN_AND_SEND = r"""
import json, sys, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

url, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
body = json.dumps({"maxResults": 10}).encode()
request = AWSRequest(method="POST", url=url, data=body, headers={
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "AWSCodeWhispererService.ListProfiles",
})
SigV4Auth(Credentials(key, secret), "codewhisperer", "us-east-1").add_auth(request)
headers = dict(request.headers.items())

def send(data):
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

status, text = send(body)
print(json.dumps({"case": "signed by botocore", "status": status, "body": text}))
tampered = body.replace(b"10", b"11")
status, text = send(tampered)
print(json.dumps({"case": "one body byte changed", "status": status, "body": text}))
"""


def ensure_botocore() -> Path:
    env_dir = TARGET / "sigv4-interop-venv"
    python = env_dir / "bin" / "python"
    marker = env_dir / f".installed-{BOTOCORE}"
    if not marker.exists():
        venv.create(env_dir, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", BOTOCORE], check=True)
        marker.touch()
    return python


def post_json(url: str, payload: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox", type=Path, default=TARGET / "debug" / "kiro-sandbox")
    args = parser.parse_args()
    python = ensure_botocore()
    if not args.sandbox.exists():
        sys.exit(f"{args.sandbox} does not exist: build it first (cargo build -p kiro-sandbox)")
    proc = subprocess.Popen([str(args.sandbox), "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("KIRO_SANDBOX_URL="):
            sys.exit(f"kiro-sandbox did not print its URL (got {line!r})")
        url = line.removeprefix("KIRO_SANDBOX_URL=")
        account = post_json(f"{url}/_sandbox/aws/accounts", {})
        out = subprocess.run([str(python), "-c", SIGN_AND_SEND, f"{url}/kiro/",
                              account["access_key_id"], account["secret_access_key"]],
                             capture_output=True, text=True, check=True).stdout
        results = [json.loads(l) for l in out.splitlines() if l.strip()]
    finally:
        proc.kill()
        proc.wait()
    expected = {"signed by botocore": (200, '"profiles"'),
                "one body byte changed": (403, "InvalidSignatureException")}
    failed = 0
    for r in results:
        status, needle = expected[r["case"]]
        ok = r["status"] == status and needle in r["body"]
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {r['case']}: HTTP {r['status']} {r['body'][:160]}")
    print(f"sigv4 interop: {len(results) - failed} passed, {failed} failed")
    return 1 if failed or len(results) != len(expected) else 0


if __name__ == "__main__":
    sys.exit(main())
