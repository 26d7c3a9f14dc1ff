# Learner shell. The prompt names the node so multi-terminal labs stay readable; a plain "$"
# (not "#") matches how lab texts show commands.
[ -z "${PS1:-}" ] && return
PS1='[\h] $PWD $ '
HISTCONTROL=ignoredups
shopt -s checkwinsize
[ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
alias ls='ls --color=auto'
alias ll='ls -l'
alias grep='grep --color=auto'
