#!/usr/bin/env bash
# Builds the two native wheels the bundle needs for any x86-64 CPU, once per machine.
#
# pip compiles llama-cpp-python and hnswlib from source with -march=native: a bundle made
# from those dies with "illegal instruction" on an older CPU. Here llama.cpp is built with
# every CPU variant as a loadable backend (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS; the best
# one for the running CPU is chosen at start) and hnswlib without -march=native. pip's wheel
# cache ignores CMAKE_ARGS, so these are built with --no-cache-dir into their own folder,
# kept apart from the native wheels of the development venv and reused by later builds;
# the folder is named after the build flags, so new flags mean a new build. Then the
# locked versions are installed with PIP.
#
#   packaging/portable_wheels.sh PIP CACHE_DIR      (~13 minutes on 2 cores the first time)
set -euo pipefail
pip=$1
llama=$(grep -i '^llama[-_]cpp[-_]python==' requirements.lock | cut -d= -f3)
hnswlib=$(grep -i '^hnswlib==' requirements.lock | cut -d= -f3)
llama_flags="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DLLAVA_BUILD=OFF \
-DCMAKE_INSTALL_BINDIR=llama_cpp/lib"
out=$2/$(printf '%s HNSWLIB_NO_NATIVE=1' "$llama_flags" | sha256sum | cut -c1-12)
mkdir -p "$out"
if ! ls "$out"/llama_cpp_python-"$llama"-*.whl >/dev/null 2>&1; then
    echo "Building llama-cpp-python $llama for every x86-64 CPU (once; about 13 minutes)…"
    CMAKE_ARGS=$llama_flags CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
        "$pip" wheel --quiet --no-cache-dir --no-deps -w "$out.tmp" "llama_cpp_python==$llama"
    mv "$out.tmp"/llama_cpp_python-*.whl "$out"/
fi
if ! ls "$out"/hnswlib-"$hnswlib"-*.whl >/dev/null 2>&1; then
    echo "Building hnswlib $hnswlib without -march=native…"
    HNSWLIB_NO_NATIVE=1 "$pip" wheel --quiet --no-cache-dir --no-deps -w "$out.tmp" "hnswlib==$hnswlib"
    mv "$out.tmp"/hnswlib-*.whl "$out"/
fi
rmdir "$out.tmp" 2>/dev/null || true
"$pip" install --quiet --no-deps "$out"/llama_cpp_python-"$llama"-*.whl "$out"/hnswlib-"$hnswlib"-*.whl
