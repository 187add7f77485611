#!/bin/sh
# Lists every Go comment citation ("doc/protocol.md §3.3", "protocol spec
# §3.3", "spec §3.3", "§3.3") whose section is missing from the in-repo doc,
# every issue number in a comment, and references to documents outside the
# repository. Exits 1 when a citation or an issue number needs fixing.
# Run from anywhere inside the module; -list prints every resolved citation.
set -eu
cd "$(dirname "$0")/../.."
exec go run ./internal/doccheck/specrefs "$@"
