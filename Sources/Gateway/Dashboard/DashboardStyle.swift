/// The dashboard's style sheet and icon, served from `/ui/assets/`.
enum DashboardStyle {
    static let icon = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2563eb"/><text x="8" y="12" font-size="11" text-anchor="middle" fill="#fff" font-family="sans-serif">D</text></svg>"##

    static let source = #"""
    :root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --card: #fff; --accent: #2563eb;
            --exact: #2563eb; --semantic: #7c3aed; --miss: #d1d5db; --bad: #dc2626; --good: #16a34a; --warn: #d97706; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
    header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
    .brand { font-weight: 700; font-size: 18px; color: var(--accent); }
    nav { display: flex; gap: 4px; flex: 1; }
    nav a { padding: 6px 12px; border-radius: 6px; color: var(--fg); text-decoration: none; }
    nav a.current { background: #eff6ff; color: var(--accent); font-weight: 600; }
    main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 40px; }
    h1 { font-size: 22px; margin: 8px 0 16px; }
    h2 { font-size: 15px; margin: 24px 0 8px; color: var(--muted); font-weight: 600; }
    section { margin-bottom: 8px; }
    .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
    .tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
    .tile .label { color: var(--muted); font-size: 12px; }
    .tile .value { font-size: 22px; font-weight: 600; margin-top: 2px; overflow-wrap: anywhere; }
    #tile-embedder .value { font-size: 13px; font-weight: 500; }
    .tile .sub { color: var(--muted); font-size: 12px; }
    .chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
    .chart svg { display: block; width: 100%; height: auto; }
    .chart text { font-size: 11px; fill: var(--muted); }
    .legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); padding: 4px 8px; }
    .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
    table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
    th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-size: 12px; color: var(--muted); font-weight: 600; background: #f3f4f6; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    td.text { max-width: 480px; overflow-wrap: anywhere; }
    button { font: inherit; padding: 6px 12px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); cursor: pointer; }
    button:hover { border-color: var(--accent); }
    button.current { background: var(--accent); color: #fff; border-color: var(--accent); }
    button.danger { color: var(--bad); border-color: #fecaca; }
    input, select { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; }
    form.inline { display: flex; gap: 8px; margin: 8px 0 12px; }
    form.inline input { flex: 1; }
    .ranges { display: flex; gap: 6px; margin-bottom: 12px; }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
    .badge.closed, .badge.hit, .badge.active { background: #dcfce7; color: var(--good); }
    .badge.revoked { background: #fee2e2; color: var(--bad); }
    .badge.rotating, .badge.expired { background: #f3f4f6; color: var(--muted); }
    .badge.semantic-hit { background: #ede9fe; color: var(--semantic); }
    .badge.open, .badge.error { background: #fee2e2; color: var(--bad); }
    .badge.half_open { background: #fef3c7; color: var(--warn); }
    .badge.miss, .badge.bypass, .badge.verify, .badge.shadow { background: #f3f4f6; color: var(--muted); }
    .bar { height: 8px; background: #f3f4f6; border-radius: 4px; min-width: 120px; }
    .bar > span { display: block; height: 8px; border-radius: 4px; background: var(--accent); }
    .bar.over > span { background: var(--bad); }
    .hint { color: var(--muted); margin: 0 0 8px; }
    .status { color: var(--muted); min-height: 1em; }
    .status.error { color: var(--bad); }
    pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f4f6; padding: 10px; border-radius: 6px; }
    #entry { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-top: 12px; }
    .login { max-width: 360px; margin: 12vh auto; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 24px; }
    .login form { display: flex; flex-direction: column; gap: 10px; }
    .error { color: var(--bad); }
    header form.logout { margin: 0; }
    """#
}
