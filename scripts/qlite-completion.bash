# SPDX-License-Identifier: GPL-2.0-only
# bash completion for qlite, installed as share/bash-completion/completions/qlite.
#
# The options and device types come from the qlite being completed (`qlite help options`,
# `qlite help devices`), so they are always that binary's keyword and device tables. Needs
# nothing from the bash-completion package.

# The qlite the command line names; `qlite` from PATH when that one cannot be run.
_qlite_binary()
{
	local q=${COMP_WORDS[0]}

	q=${q/#\~/$HOME}
	if [[ -x $q || $(type -P "$q") ]]; then
		printf '%s\n' "$q"
	else
		printf 'qlite\n'
	fi
}

# Complete file names (directories too); with a pattern, only the files that match it.
_qlite_files()
{
	local cur=$1 pattern=${2-} f
	local IFS=$'\n'

	compopt -o filenames 2>/dev/null
	if [[ -z $pattern ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -d -- "$cur"))
	for f in $(compgen -f -X "!$pattern" -- "$cur"); do
		[[ -d $f ]] || COMPREPLY+=("$f")
	done
}

_qlite()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[1]-} qlite options line syntax

	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "run check compare help --help --version" -- "$cur"))
		return
	fi
	qlite=$(_qlite_binary)
	case $cmd in
	help)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "config options devices run check compare" -- "$cur"))
		elif ((COMP_CWORD == 3)) && [[ ${COMP_WORDS[2]} == config ]]; then
			COMPREPLY=($(compgen -W "--markdown --man" -- "$cur"))
		fi
		return
		;;
	run | check) ;;
	compare)
		# Its own options first; the config language's options apply to both VMs.
		case $prev in
		--workload)
			COMPREPLY=($(compgen -W "blk-write blk-read net-tx net-rx net-echo" -- "$cur"))
			return
			;;
		--json | --svg)
			_qlite_files "$cur"
			return
			;;
		--runs | --until | --timeout) return ;;
		esac
		if [[ $cur == -* ]]; then
			options=$("$qlite" help options 2>/dev/null)
			COMPREPLY=($(compgen -W "--workload --runs --json --svg --until --timeout
				$(cut -d' ' -f1 <<<"$options")" -- "$cur"))
			return
		fi
		;;
	*) return ;;
	esac

	# One line per option: "--kernel PATH", "--nographic".
	options=$("$qlite" help options 2>/dev/null)
	# The value of an option that takes one (an optional value, "[...]", may be left out).
	if [[ $prev == -* ]]; then
		line=$(grep -m1 -e "^$prev\$" -e "^$prev " <<<"$options")
		syntax=${line#"$prev"}
		syntax=${syntax# }
		if [[ -n $syntax && $syntax != \[* ]]; then
			if [[ $syntax == PATH* || $syntax == FILE* ]]; then
				_qlite_files "$cur"
			elif [[ $syntax == TYPE* ]]; then
				COMPREPLY=($(compgen -W "$("$qlite" help devices 2>/dev/null)" -- "$cur"))
			elif [[ $syntax =~ ^[a-z]+(\|[a-z]+)+$ ]]; then
				COMPREPLY=($(compgen -W "${syntax//|/ }" -- "$cur"))
			fi
			# Any other value (a size, a count, a command line) cannot be guessed.
			return
		fi
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(cut -d' ' -f1 <<<"$options")" -- "$cur"))
		return
	fi
	# The config files come first.
	_qlite_files "$cur" '*.conf'
}

complete -F _qlite qlite
