#!/usr/bin/env bash
# Fetch the pinned front-end packages from the npm registry and vendor the built files into
# static/vendor/. The result is committed, so running the app never needs npm or a CDN.
set -euo pipefail
BOOTSTRAP_VERSION=5.3.9
HTMX_VERSION=2.0.11
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "bootstrap@${BOOTSTRAP_VERSION}" "htmx.org@${HTMX_VERSION}" >/dev/null
for tgz in *.tgz; do mkdir "${tgz%.tgz}"; tar -xzf "$tgz" -C "${tgz%.tgz}"; done
dest="$here/static/vendor"
rm -rf "$dest"
mkdir -p "$dest/bootstrap" "$dest/htmx"
cp "bootstrap-${BOOTSTRAP_VERSION}/package/dist/css/bootstrap.min.css" "$dest/bootstrap/"
cp "bootstrap-${BOOTSTRAP_VERSION}/package/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap/"
cp "bootstrap-${BOOTSTRAP_VERSION}/package/LICENSE" "$dest/bootstrap/LICENSE"
cp "htmx.org-${HTMX_VERSION}/package/dist/htmx.min.js" "$dest/htmx/"
cp "htmx.org-${HTMX_VERSION}/package/LICENSE" "$dest/htmx/LICENSE"
# The minified files end in a sourceMappingURL comment naming a .map we do not vendor. The manifest
# storage (collectstatic with DEBUG=0) rewrites every reference and fails on a missing file, so drop
# the comments: browsers then simply show the minified source.
sed -i '/^\/[*/]# sourceMappingURL=/d' "$dest"/bootstrap/*.min.* "$dest"/htmx/*.min.js
printf 'bootstrap %s\nhtmx.org %s\n' "$BOOTSTRAP_VERSION" "$HTMX_VERSION" > "$dest/VERSIONS"
echo "Vendored into $dest:"; cat "$dest/VERSIONS"
