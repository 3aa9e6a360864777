# Sourced, not run: installs the LiteLLM proxy we compare against (guarded, idempotent) into
# "$1/litellm" and exports the settings that keep it offline (no cost-map or blog downloads, no
# admin UI). Used by conformance/third-party/run.sh and benches/load/run.sh.
LITELLM_VERSION=1.108.7

install_litellm() { # tools dir
  if ! "$1/litellm/bin/python" -c 'import litellm' 2>/dev/null; then
    rm -rf "$1/litellm"; python3 -m venv "$1/litellm"
    "$1/litellm/bin/pip" install -q --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"
  fi
}

export LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOCAL_BLOG_POSTS=True LITELLM_LOCAL_POLICY_TEMPLATES=True \
       LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True LITELLM_LOCAL_AUTOROUTER_PRESETS=True \
       DISABLE_ADMIN_UI=True NO_DOCS=True NO_REDOC=True LITELLM_MODE=PRODUCTION
