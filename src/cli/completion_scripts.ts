/**
 * `m-docker completion bash|zsh|fish`: the completion scripts. Each one asks the program
 * itself (`m-docker __complete WORD...`, see complete.ts) for the candidates of the word
 * under the cursor, so that commands, flags, and container and image names are always
 * those of the installed version and the data root in use. Loaded only by `completion`.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { action, type CliContext } from "./context.ts";

/** The shells a script is written for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

// Template literals: `\${` is the shells' `${`, `\\` their backslash.
const BASH = `# bash completion for m-docker. Load it with
#   source <(m-docker completion bash)
# or save it as /etc/bash_completion.d/m-docker.
_m_docker_complete() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null; then
        # bash-completion's: NAME:TAG and --flag=VALUE stay one word.
        _get_comp_words_by_ref -n =: cur words cword
    else
        words=("\${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=\${COMP_WORDS[COMP_CWORD]}
    fi
    local IFS=$'\\n' line
    local -a lines
    lines=($("\${words[0]}" __complete "\${words[@]:1:cword}" 2>/dev/null))
    COMPREPLY=()
    for line in "\${lines[@]}"; do
        COMPREPLY+=("\${line%%$'\\t'*}")
    done
    if declare -F __ltrim_colon_completions >/dev/null; then
        __ltrim_colon_completions "$cur"
    fi
}
complete -o default -F _m_docker_complete m-docker
`;

const ZSH = `#compdef m-docker
# zsh completion for m-docker. Load it with
#   source <(m-docker completion zsh)
# (after compinit), or save it as _m-docker in a directory of $fpath.
_m_docker() {
    local -a lines candidates
    local line value
    lines=("\${(@f)$(\${words[1]} __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for line in $lines; do
        [[ -z $line ]] && continue
        value=\${line%%$'\\t'*}
        candidates+=("\${value//:/\\\\:}:\${line#*$'\\t'}")
    done
    (( $#candidates )) || { _files; return }
    _describe -t values 'm-docker' candidates
}
if (( $+functions[compdef] )); then
    compdef _m_docker m-docker
fi
`;

const FISH = `# fish completion for m-docker. Load it with
#   m-docker completion fish | source
# or save it as ~/.config/fish/completions/m-docker.fish.
function __m_docker_complete
    set -l tokens (commandline -opc)
    $tokens[1] __complete $tokens[2..-1] (commandline -ct) 2>/dev/null
end
complete -c m-docker -f -a '(__m_docker_complete)'
`;

/** The completion script for `shell`. */
export function completionScript(shell: string): string {
  switch (shell) {
    case "bash":
      return BASH;
    case "zsh":
      return ZSH;
    case "fish":
      return FISH;
    default:
      throw new UsageError(
        `unsupported shell "${shell}": use ${SHELLS.join(", ")}`,
      );
  }
}

/** The `completion` command's body (loaded lazily by its route). */
export default action(function (this: CliContext, _flags: Record<never, never>, shell: string) {
  this.process.stdout.write(completionScript(shell));
  return 0;
});
