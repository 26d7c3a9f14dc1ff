[ -n "${BASH_VERSION:-}" ] && [ -r "$HOME/.bashrc" ] && . "$HOME/.bashrc"
