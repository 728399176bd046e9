#!/usr/bin/env bash
# Puts the four Fashion-MNIST files (Zalando Research, MIT license) in DIR, each verified by MD5.
#
#   data-scripts/fetch-fashion-mnist.sh DIR
#
# With NNTRAIN_DATA_MIRROR=FOLDER set, the files are copied from that folder (for machines without
# internet, e.g. NNTRAIN_DATA_MIRROR=/mnt/mirror/fashion-mnist); otherwise each is downloaded
# with curl or wget, with retries, from the dataset's public mirror. The mirror is plain HTTP (S3
# website endpoints have no HTTPS), so the MD5 check below is what guarantees the bytes.
# Files already in DIR with the right MD5 are kept; a file with the wrong MD5 is removed and the
# script fails.
set -euo pipefail

usage() {
    echo "usage: $0 DIR   (set NNTRAIN_DATA_MIRROR=FOLDER to copy from a local folder instead of downloading)" >&2
    exit 64
}
[ $# -eq 1 ] && [ -n "$1" ] || usage
dir=$1
base_url=http://fashion-mnist.s3-website.eu-central-1.amazonaws.com

# name and MD5 of each file, from the Fashion-MNIST README
files=(
    "train-images-idx3-ubyte.gz 8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    "train-labels-idx1-ubyte.gz 25c81989df183df01b3e8a0aad5dffbe"
    "t10k-images-idx3-ubyte.gz bef4ecab320f06d8554ea6380940ec79"
    "t10k-labels-idx1-ubyte.gz bb300cfdad3c16e7a12a480ee83cd310"
)

md5_of() {
    if command -v md5sum >/dev/null; then
        md5sum "$1" | cut -d ' ' -f 1
    else
        md5 -q "$1"  # macOS
    fi
}

fetch() {  # fetch NAME TARGET
    if [ -n "${NNTRAIN_DATA_MIRROR:-}" ]; then
        if [ ! -f "$NNTRAIN_DATA_MIRROR/$1" ]; then
            echo "error: $NNTRAIN_DATA_MIRROR/$1: no such file (NNTRAIN_DATA_MIRROR must be a folder holding the four .gz files)" >&2
            exit 66
        fi
        cat "$NNTRAIN_DATA_MIRROR/$1" >"$2"  # not cp: the copy gets ordinary permissions
    elif command -v curl >/dev/null; then
        curl --fail --location --silent --show-error --retry 3 --retry-delay 2 --output "$2" "$base_url/$1" ||
            download_failed "$1"
    elif command -v wget >/dev/null; then
        wget --quiet --tries=3 --waitretry=2 --output-document="$2" "$base_url/$1" || download_failed "$1"
    else
        echo "error: neither curl nor wget is installed; install one, or set NNTRAIN_DATA_MIRROR=FOLDER" >&2
        exit 69
    fi
}

download_failed() {
    echo "error: could not download $base_url/$1 (no internet? set NNTRAIN_DATA_MIRROR=FOLDER to copy from a local folder)" >&2
    exit 69
}

mkdir -p "$dir"
for entry in "${files[@]}"; do
    read -r name md5 <<<"$entry"
    target=$dir/$name
    if [ -f "$target" ] && [ "$(md5_of "$target")" = "$md5" ]; then
        echo "$target: present, MD5 ok"
        continue
    fi
    partial=$target.partial
    trap 'rm -f "$partial"' EXIT
    fetch "$name" "$partial"
    actual=$(md5_of "$partial")
    if [ "$actual" != "$md5" ]; then
        rm -f "$partial" "$target"
        echo "error: $name: MD5 $actual; expected $md5 (the file was removed; fetch it again)" >&2
        exit 65
    fi
    mv -f "$partial" "$target"
    trap - EXIT
    echo "$target: fetched, MD5 ok"
done
