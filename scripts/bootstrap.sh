#!/usr/bin/env bash
# Create .venv with Python 3.11 if it is missing, and install requirements-dev.txt (the runtime's
# requirements.txt plus tests and tooling) into it unless the stamp in .venv says exactly these two
# files are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
STAMP="$VENV/.requirements.sha256"

find_python() {  # $PYTHON if set, else python3.11, else python3 if it is 3.11 (or, with a warning, newer)
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "bootstrap: no Python 3.11 on PATH; trying $(python3 --version) (the project targets 3.11)" >&2
        echo python3
        return
    fi
    echo "bootstrap: Python 3.11 not found on PATH (tried python3.11, python3); set PYTHON=/path/to/python3.11" >&2
    exit 1
}

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    python=$(find_python)
    echo "bootstrap: creating $VENV with $("$python" --version 2>&1)"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
fi

wanted=$( { sha256sum requirements.txt requirements-dev.txt; "$VENV/bin/python" --version; } | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then
    exit 0
fi
echo "bootstrap: installing requirements-dev.txt (with requirements.txt) into $VENV"
log="$VENV/pip-install.log"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --requirement requirements-dev.txt >"$log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -n 40 >&2
    echo "bootstrap: pip install failed (full log: $log)" >&2
    exit 1
fi
echo "$wanted" > "$STAMP"
