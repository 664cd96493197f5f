#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open files, which client connections, upstream connections and
/// Deja's own files share.
///
/// When the limit is reached the kernel still completes new clients' connections, but the server
/// cannot accept them: they wait in the listen queue, unanswered and unlogged, while the
/// connections already open are served as usual. Nothing in the server sees it, so `deja serve`
/// raises the soft limit to the hard one at start, as Go's runtime and nginx's
/// `worker_rlimit_nofile` do, and warns when even that is low.
enum OpenFileLimit {
    /// Below this many open files `deja serve` warns: a few thousand clients and the upstream
    /// connections (`server.upstream_connections` per provider) must fit.
    static let comfortable: UInt64 = 4096
    /// Linux refuses a soft limit above `fs.nr_open` (1,048,576 by default), even when the hard
    /// limit is unlimited.
    static let ceiling: UInt64 = 1 << 20

    struct Change {
        var before: UInt64
        var now: UInt64
        var hard: UInt64
    }

    /// Raises the soft limit to the hard one; `nil` where there is no such limit to read.
    static func raise() -> Change? {
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        let target = min(limit.rlim_max, rlim_t(ceiling))
        var change = Change(before: UInt64(limit.rlim_cur), now: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(resource, &raised) == 0 { change.now = UInt64(target) }
        }
        return change
        #else
        return nil
        #endif
    }

    /// The log lines for `change`: a note when raised, a warning when the limit stays low.
    static func messages(_ change: Change) -> (info: String?, warning: String?) {
        let info = change.now > change.before ? "open-file limit raised from \(change.before) to \(change.now)" : nil
        guard change.now < comfortable else { return (info, nil) }
        let warning = "only \(change.now) files may be open at once (the hard limit of ulimit -n), shared by client "
            + "connections, upstream connections and the cache's files; past it new clients wait unanswered. "
            + "Raise the hard limit (LimitNOFILE= in a systemd unit, --ulimit nofile= with docker run)"
        return (info, warning)
    }
}
