/// The dashboard's HTML: a shell per view (navigation, headings, empty places the script fills
/// from the admin routes) and the login form. No inline script or style, for the CSP.
enum DashboardPage {
    enum View: String, CaseIterable, Sendable {
        case overview, cache, entries, keys, deployments, live

        var title: String {
            switch self {
            case .overview: "Overview"
            case .cache: "Cache"
            case .entries: "Entries"
            case .keys: "Keys & usage"
            case .deployments: "Deployments"
            case .live: "Live"
            }
        }
    }

    static func login(error: String?) -> String {
        document(title: "Sign in", body: """
            <main class="login">
              <h1>Deja</h1>
              <form method="post" action="/ui/login" id="login-form">
                <label for="key">Admin key</label>
                <input type="password" id="key" name="key" autocomplete="current-password" required autofocus>
                <button type="submit">Sign in</button>
                \(error.map { "<p class=\"error\" id=\"login-error\">\(escape($0))</p>" } ?? "")
              </form>
            </main>
            """)
    }

    static func view(_ view: View, csrf: String, governance: Bool) -> String {
        let nav = View.allCases.map { v in
            "<a href=\"/ui/\(v.rawValue)\"\(v == view ? " class=\"current\" aria-current=\"page\"" : "")>\(v.title)</a>"
        }.joined()
        return document(title: view.title, csrf: csrf, body: """
            <header>
              <span class="brand">Deja</span>
              <nav>\(nav)</nav>
              <form method="post" action="/ui/logout" class="logout">
                <input type="hidden" name="csrf" value="\(escape(csrf))">
                <button type="submit">Sign out</button>
              </form>
            </header>
            <main id="main" data-view="\(view.rawValue)" data-governance="\(governance)">
              <h1>\(view.title)</h1>
              \(content(view))
              <p class="status" id="status"></p>
            </main>
            """)
    }

    private static func content(_ view: View) -> String {
        switch view {
        case .overview:
            """
            <div class="ranges" id="ranges"><button data-range="hour" class="current">Last hour</button><button data-range="day">Last day</button><button data-range="week">Last week</button></div>
            <section class="tiles" id="tiles"></section>
            <section><h2>Requests</h2><div class="chart" id="chart-requests"></div></section>
            <section><h2>Latency (p50, p99)</h2><div class="chart" id="chart-latency"></div></section>
            """
        case .cache:
            """
            <section class="tiles" id="tiles"></section>
            <section><h2>Similarity of semantic hits and near misses</h2>
              <p class="hint">Misses whose best candidate sits just under the threshold are answers the cache nearly gave; hits just over it are the ones to check.</p>
              <div class="chart" id="chart-similarity"></div></section>
            <section><h2>Refusals of the false-positive guard</h2><table id="refusals"></table></section>
            <section><h2>Namespaces by lookups</h2><table id="namespaces"></table></section>
            """
        case .entries:
            """
            <form id="search-form" class="inline"><input type="search" id="search-text" placeholder="Search entries by meaning" aria-label="Search text"><button type="submit">Search</button><button type="button" id="search-clear">Newest</button></form>
            <table id="entries"></table>
            <section id="entry" hidden></section>
            <section><h2>Purge</h2>
              <form id="purge-form" class="inline"><select id="purge-kind" aria-label="Purge by"><option value="label">label (glob)</option><option value="namespace">namespace</option></select><input id="purge-value" placeholder="acme/gpt-4o*" aria-label="Purge what" required><button type="submit" class="danger">Purge</button></form>
            </section>
            """
        case .keys:
            """
            <section><h2>Tenants: spend against budget</h2><table id="tenants"></table></section>
            <section><h2>Keys</h2><table id="keys"></table></section>
            <section><h2>Top models (7 days)</h2><table id="models"></table></section>
            """
        case .deployments:
            """
            <table id="deployments"></table>
            """
        case .live:
            """
            <p class="hint">The last requests, newest first; refreshed every two seconds. Prompts appear only when <code>logging.prompts</code> is on.</p>
            <table id="requests"></table>
            """
        }
    }

    private static func document(title: String, csrf: String? = nil, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(csrf.map { "<meta name=\"csrf-token\" content=\"\(escape($0))\">" } ?? "")
        <title>\(escape(title)) · Deja</title>
        <link rel="stylesheet" href="/ui/assets/app.css">
        <link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml">
        <script src="/ui/assets/app.js" defer></script>
        </head>
        <body>
        \(body)
        </body>
        </html>
        """
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
