#!/usr/bin/env bash
# `make package`: dist/enclave/ (the bundle), dist/enclave-<version>-linux-x86_64.tar.gz and
# its .sha256, built from build.spec in a venv of its own (build/package-venv) that holds
# the exact versions of requirements.lock, except llama-cpp-python and hnswlib, which come
# from packaging/portable_wheels.sh (built once per machine, any x86-64 CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
venv=build/package-venv
wheels=${ENCLAVE_WHEEL_CACHE:-$HOME/.cache/enclave/portable-wheels}
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
name=enclave-$version-linux-x86_64
started=$(date +%s)

# this machine's pip configuration names local package folders that may not exist: pip
# warns about each one for every package; those lines say nothing about the build
quiet_pip() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

if [ ! -f $venv/.installed ] || [ requirements.lock -nt $venv/.installed ] \
        || [ packaging/requirements.txt -nt $venv/.installed ]; then
    rm -rf $venv
    "$python" -m venv $venv
    quiet_pip $venv/bin/pip install --quiet --upgrade pip==26.3 setuptools==84.2.1 wheel==0.48.0
    grep -v -i -E '^(llama[-_]cpp[-_]python|hnswlib)==' requirements.lock > build/package-requirements.txt
    quiet_pip $venv/bin/pip install --quiet --no-deps -r build/package-requirements.txt \
        -r packaging/requirements.txt
    quiet_pip bash packaging/portable_wheels.sh $venv/bin/pip "$wheels"
    touch $venv/.installed
fi

rm -rf dist/enclave dist/$name dist/$name.tar.gz dist/$name.tar.gz.sha256
# the embedding model's int8 graph, converted here so that the bundle never converts it
rm -rf build/converted-models
$venv/bin/python -c "from pathlib import Path; from engine import BUNDLED_EMBEDDING_MODEL as m
from engine.retrieval.embedder import Embedder
Embedder.named(m, 32, Path('build/converted-models')).model"
$venv/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
    build.spec
# what a bundle must not carry: CUDA/NVIDIA libraries, headers, tests
unwanted=(-iname 'libcuda*' -o -iname 'libcudart*' -o -iname 'libcublas*' -o -iname 'libcudnn*'
          -o -iname '*nvidia*' -o -iname 'libnccl*' -o -iname 'libnvrtc*' -o -name '*.h' -o -name '*.hpp')
if find dist/enclave \( "${unwanted[@]}" \) -print -quit | grep -q .; then
    echo "the bundle carries CUDA libraries or headers:" >&2
    find dist/enclave \( "${unwanted[@]}" \) | head >&2
    exit 1
fi

# On Linux the two programs are the same file (the console flag means nothing there): one
# is a link to the other, which saves a second copy of the ~80 MB Python archive.
ln -sf enclave dist/enclave/enclave-desktop

# the tarball: enclave-<version>/ with the bundle, install.sh, uninstall.sh and the .desktop entry
mkdir -p dist/$name
mv dist/enclave dist/$name/enclave
cp packaging/install.sh packaging/uninstall.sh packaging/enclave.desktop packaging/INSTALL.txt dist/$name/
tar -C dist -czf dist/$name.tar.gz $name
mv dist/$name/enclave dist/enclave && rm -rf dist/$name
(cd dist && sha256sum $name.tar.gz > $name.tar.gz.sha256)
echo "Bundle: dist/enclave/ $(du -sh dist/enclave | cut -f1)," \
     "dist/$name.tar.gz $(du -h dist/$name.tar.gz | cut -f1)" \
     "(sha256 in dist/$name.tar.gz.sha256), built in $(( $(date +%s) - started )) s"
