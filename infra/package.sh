#!/usr/bin/env bash
# Packages one stage for CloudFormation: Chalice's SAM template merged with infra/app.yaml (sam.yaml), and the
# deployment zip, in OUT_DIR (default dist/STAGE). `make package` and the tests run exactly this.
# Usage: infra/package.sh STAGE [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

stage=${1:?usage: infra/package.sh STAGE [OUT_DIR]}
out=${2:-dist/$stage}
bin=${VENV_BIN:-.venv/bin}

# chalice packages wheels for the Python that runs it: it must be the Lambda's.
"$bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12) and "chalice package needs Python 3.12, the Lambda runtime")'

# Chalice wants a region, but the template does not depend on it (only a China region would change
# its service principals); the deploy region is the AWS CLI's.
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-eu-west-1}}

rm -rf "$out"
"$bin/chalice" package --stage "$stage" --merge-template infra/app.yaml "$out"
# CloudFormation refuses YAML aliases, which Chalice writes for what its template shares (one trust
# policy for every role, the alarms' common settings): write each copy out.
"$bin/python" - "$out/sam.yaml" <<'PYTHON'
import sys

import yaml


class NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


with open(sys.argv[1]) as file:
    template = yaml.safe_load(file)
# The OpenRosa authorizer (infra/app.yaml's openrosa_gate) on every OpenRosa route but the token URLs,
# whose path is their credential: done here, so that a route added later gets it too.
paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
for path, methods in paths.items():
    if path.startswith("/api/openrosa/") and not path.startswith("/api/openrosa/key/"):
        for method in methods.values():
            method["security"] = [{"openrosa_gate": []}]
with open(sys.argv[1], "w") as file:
    yaml.dump(template, file, Dumper=NoAliases, sort_keys=False, allow_unicode=True, width=110)
PYTHON
"$bin/cfn-lint" "$out/sam.yaml"
echo "packaged $stage: $out/sam.yaml, $out/deployment.zip ($(du -h "$out/deployment.zip" | cut -f1))"
