#!/usr/bin/env bash
# Installs fluxrecon's whole dependency stack from Debian 12's packages.
# Idempotent: does nothing when everything is installed. Downloads nothing
# from anywhere but the Debian archive.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libopenmpi-dev openmpi-bin libpnetcdf-dev pnetcdf-bin libhdf5-openmpi-dev hdf5-tools
  libdnnl-dev ocl-icd-opencl-dev  # dnnl-config.cmake calls find_package(OpenCL); only a Recommends
  libxgboost-dev xgboost libcli11-dev libgtest-dev libtrilinos-kokkos-dev
  netcdf-bin libyaml-cpp-dev nlohmann-json3-dev libproj-dev
  libplplot-dev plplot-driver-cairo libopenblas-dev
  clang libclang-rt-14-dev  # tools/run-sanitized.sh: ASan/UBSan and libFuzzer builds
  chromium  # headless browser test of the analysis report (tests/unit/test_analysis_report.cpp)
  # tools/slurm-local (a one-node SLURM 22.05 for tests/cli/test_slurm.sh) and
  # tools/submit-pipeline.sh (python3-yaml reads the pipeline YAML); iproute2:
  # `ip netns` for the several-hosts test (tests/cli/test_hosts.sh)
  slurm-wlm slurmctld slurmd slurm-client munge python3-yaml iproute2
  bc  # time bounds in the cli fault tests
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
