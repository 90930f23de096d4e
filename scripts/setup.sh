#!/usr/bin/env bash
# Installs what amva needs on Debian bookworm, only what is missing, and fetches the default
# models and source photos from the npm registry, each checked against scripts/assets.sha256.
# Idempotent: a second run changes nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

packages=(
  g++ cmake make pkg-config git ca-certificates
  libopencv-dev opencv-data libonnx-dev libprotobuf-dev protobuf-compiler libcli11-dev nlohmann-json3-dev
  libfmt-dev libtbb-dev libeigen3-dev libssl-dev libboost-dev
  libjpeg-dev  # amva's own check for damaged JPEG data (src/io/jpeg_check.hpp)
  libopenblas-dev  # SER-FIQ's one matrix product: OpenBLAS picks the CPU's vector units at run time
  libopenmpi-dev openmpi-bin  # optional: mpirun -n N amva extract (docs/cluster.md)
  pybind11-dev python3-dev python3-pytest  # the Python module `amva` and its tests (docs/python.md)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev  # only for the sanitizer and libFuzzer pass of the tests (scripts/sanitize.sh)
  python3 python3-numpy python3-scipy python3-matplotlib python3-imageio python-matplotlib-data
  python3-opencv  # only for tests: cv2.resize in the NumPy reference of pytorch-grad-cam's map scaling
  chromium  # only for the test that opens the HTML report in a real browser
  nodejs npm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine may already have node and npm from elsewhere; then Debian's are not needed.
if command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The recorded hashes; '#' lines are comments (a comment naming a folder is not a file).
expected_hash() { awk -v f="$1" '!/^#/ && $2 == f { print $1 }' scripts/assets.sha256; }
check() {  # check FILE: exits naming the file when its hash is not the recorded one
  local want got
  want="$(expected_hash "$1")"
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$got" != "$want" ]]; then
    echo "setup: error: $1 has sha256 $got, expected $want (see scripts/assets.sha256)" >&2
    rm -f "$1"
    exit 1
  fi
}
all_present() {  # all_present PREFIX: true when every recorded file under PREFIX exists and matches
  local f
  for f in $(awk -v p="$1" '!/^#/ && index($2, p) == 1 { print $2 }' scripts/assets.sha256); do
    [[ -f "$f" && "$(sha256sum "$f" | cut -d' ' -f1)" == "$(expected_hash "$f")" ]] || return 1
  done
}
npm_unpack() {  # npm_unpack SPEC DIR: the package's files under DIR/package; npm's reason on failure
  local spec="$1" dir="$2" log
  rm -rf "$dir" && mkdir -p "$dir"
  log="$(mktemp)"
  if ! (cd "$dir" && npm pack --loglevel=error "$spec" >/dev/null 2>"$log" && tar xzf ./*.tgz 2>>"$log"); then
    echo "setup: error: cannot fetch $spec from the npm registry ($(npm config get registry 2>/dev/null)):" >&2
    grep -v "^npm error     at " "$log" | sed 's/^/  /' | head -n 8 >&2
    echo "setup: the default models and photos come only from there; with no network, copy models/ and" >&2
    echo "       data/default/sources/ from a machine that has them (they are checked against scripts/assets.sha256)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

cache=".cache/setup"
if ! all_present models/; then
  echo "setup: fetching default models (npm faceplugin-face-recognition-js@0.0.1)"
  npm_unpack faceplugin-face-recognition-js@0.0.1 "$cache/faceplugin"
  mkdir -p models
  for m in fr_feature fr_detect fr_landmark fr_pose fr_eye; do
    cp "$cache/faceplugin/package/model/$m.onnx" models/
    check "models/$m.onnx"
  done
  rm -rf "$cache/faceplugin"
fi

if ! all_present data/default/sources/; then
  echo "setup: fetching default face photos (npm @vladmandic/face-api@1.7.15, Debian sample images)"
  npm_unpack @vladmandic/face-api@1.7.15 "$cache/face-api"
  mkdir -p data/default/sources
  for i in 1 2 3 4 5 6; do cp "$cache/face-api/package/demo/sample$i.jpg" data/default/sources/; done
  rm -rf "$cache/face-api"
  cp /usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png data/default/sources/
  cp /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg data/default/sources/
  for f in data/default/sources/*; do check "$f"; done
fi
# The browser driver of the report test (tests/browser/report_check.js), pinned; npm checks
# the package's integrity against the registry. Only the tests use it: without it they skip.
playwright=".cache/browser/node_modules/playwright-core/package.json"
if ! grep -q '"version": "1.65.1"' "$playwright" 2>/dev/null; then
  echo "setup: fetching the report test's browser driver (npm playwright-core@1.65.1)"
  log="$(mktemp)"
  mkdir -p .cache/browser
  if ! npm install --prefix .cache/browser --no-save --no-audit --no-fund --loglevel=error playwright-core@1.65.1 \
    >/dev/null 2>"$log"; then
    # CI (CI=true) reaches the registry: there a missing driver is an error, not a silent skip.
    level="warning"
    [[ "${CI:-}" == true ]] && level="error"
    echo "setup: $level: cannot fetch playwright-core; the report's browser test will skip:" >&2
    sed 's/^/  /' "$log" | head -n 8 >&2
    if [[ "$level" == error ]]; then rm -f "$log"; exit 1; fi
  fi
  rm -f "$log"
fi
echo "setup: ready (models/ and data/default/sources/ verified)"
