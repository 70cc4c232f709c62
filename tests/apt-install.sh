# Sourced by the test runners: `apt_install WHO PACKAGE...` installs the Debian packages given
# (the caller lists only the missing ones), as root or with sudo, updating the package lists
# only when a first try fails.
apt_install() {
  local who="$1"
  shift
  [ $# -gt 0 ] || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$who: installing $* (apt-get)" >&2
  $sudo apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "$@" >/dev/null; }
}
