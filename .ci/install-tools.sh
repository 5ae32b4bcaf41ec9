#!/usr/bin/env bash
# Installs the real peers the tests use as oracles (skopeo, gpg, docker-registry, umoci, e2fsprogs,
# cpio, veritysetup, erofs-utils, busybox-static, htpasswd, sfdisk) when they are missing.
# Needs root (or sudo) on a Debian machine; fails naming what it could not install.
set -euo pipefail

# command → Debian package
declare -A need=(
  [skopeo]=skopeo
  [gpg]=gnupg
  [gpgv]=gpgv
  [docker-registry]=docker-registry
  [umoci]=umoci
  [debugfs]=e2fsprogs
  [mkfs.ext4]=e2fsprogs
  [e2fsck]=e2fsprogs
  [cpio]=cpio
  [veritysetup]=cryptsetup-bin
  [mkfs.erofs]=erofs-utils
  [busybox]=busybox-static
  [htpasswd]=apache2-utils
  [sfdisk]=fdisk
  [openssl]=openssl
  [losetup]=mount
)

missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-tools: all test tools present"
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install-tools: installing ${pkgs[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-tools: need root to install: ${pkgs[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
for cmd in "${!need[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || { echo "install-tools: '$cmd' (package ${need[$cmd]}) is still missing" >&2; exit 1; }
done
echo "install-tools: done"
