# Sourced by the installers of private virtualenvs (scripts/spnego,
# scripts/http-python). Defines check_private DIR: DIR and every directory
# above it up to / must be owned by the user (or root) and not writable by
# group or others (a sticky directory owned by root, such as /tmp, is
# allowed), so nothing the tests load comes from a place another user can
# write. Uses the caller's `fail MESSAGE`.

check_private() {
    p=$1
    while :; do
        owner=$(stat -c %u "$p")
        mode=$(stat -c %A "$p")
        if [ "$owner" != "$(id -u)" ] && [ "$owner" != 0 ]; then
            fail "$p is owned by uid $owner, not by $(id -un) or root"
        fi
        case "$mode" in
            d????w????|d???????w?) # writable by group or others
                case "$mode" in
                    d????????t|d????????T) [ "$p" = / ] || [ "$owner" = 0 ] || fail "$p is writable by others ($mode)" ;;
                    *) fail "$p is writable by group or others ($mode)" ;;
                esac ;;
        esac
        [ "$p" = / ] && break
        p=$(dirname "$p")
    done
}
