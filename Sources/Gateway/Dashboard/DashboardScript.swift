/// The dashboard's script, served from `/ui/assets/app.js`: each view reads the admin JSON
/// routes with the session cookie (and the CSRF token to change anything) and draws tables and
/// SVG charts. Data goes into the page as text nodes only, never as markup: prompts and answers
/// are whatever clients sent.
enum DashboardScript {
    static let source = #"""
    'use strict';
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
    const main = document.getElementById('main');
    const SVG = 'http://www.w3.org/2000/svg';

    function el(tag, attrs, ...children) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : v);
      }
      for (const c of children.flat()) e.append(c instanceof Node ? c : String(c ?? ''));
      return e;
    }
    function svg(tag, attrs, ...children) {
      const e = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
      for (const c of children.flat()) e.append(c instanceof Node ? c : String(c ?? ''));
      return e;
    }
    function status(text, error) {
      const s = document.getElementById('status');
      if (!s) return;
      s.textContent = text || '';
      s.className = error ? 'status error' : 'status';
    }
    async function api(method, path, body) {
      const headers = {};
      if (method !== 'GET') headers['x-csrf-token'] = csrf;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(path, { method, headers, credentials: 'same-origin',
                                    body: body === undefined ? undefined : JSON.stringify(body) });
      if (r.status === 401) { location.assign('/ui/login'); throw new Error('signed out'); }
      const data = await r.json().catch(() => null);
      if (!r.ok) { const e = new Error((data && data.error && data.error.message) || r.statusText); e.status = r.status; throw e; }
      return data;
    }
    const fmt = {
      int: (n) => (n ?? 0).toLocaleString('en-US'),
      pct: (x) => x === null || x === undefined ? '–' : (x * 100).toFixed(1) + '%',
      ms: (x) => x === null || x === undefined ? '–' : (x < 10 ? x.toFixed(2) : x.toFixed(0)) + ' ms',
      usd: (x) => !x ? '$0' : '$' + (x < 0.01 ? x.toPrecision(2) : x.toFixed(2)),
      bytes: (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB',
      age: (t) => { if (!t) return '–'; const s = Date.now() / 1000 - t;
        return s < 60 ? Math.round(s) + ' s' : s < 3600 ? Math.round(s / 60) + ' min' : s < 86400 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' d'; },
      time: (t) => new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false }),
    };
    function tiles(list) {
      const box = document.getElementById('tiles');
      box.replaceChildren(...list.map(([label, value, sub, id]) =>
        el('div', { class: 'tile', id }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value), el('div', { class: 'sub' }, sub || ''))));
    }
    function table(id, head, rows, empty) {
      const t = document.getElementById(id);
      const th = el('tr', {}, head.map(([h, cls]) => el('th', { class: cls }, h)));
      const body = rows.length ? rows : [el('tr', {}, el('td', { colspan: head.length, class: 'empty' }, empty || 'Nothing yet.'))];
      t.replaceChildren(el('thead', {}, th), el('tbody', {}, body));
    }
    function td(v, cls) { return el('td', { class: cls }, v); }
    function badge(text) { return el('span', { class: 'badge ' + text }, text); }
    function legend(items) {
      return el('div', { class: 'legend' }, items.map(([name, color]) => el('span', {}, swatch(color), name)));
    }
    function swatch(color) { const s = el('span', { class: 'swatch' }); s.style.background = color; return s; }
    function every(ms, f) { const run = () => f().catch((e) => status(e.message, true)); run(); return setInterval(run, ms); }

    // Charts: an SVG 1000 wide, scaled to the box.
    const W = 1000, H = 220, L = 56, R = 10, T = 10, B = 24;
    function axes(g, max, unit, labels) {
      for (let i = 0; i <= 4; i++) {
        const y = T + (H - T - B) * (1 - i / 4);
        g.append(svg('line', { x1: L, x2: W - R, y1: y, y2: y, stroke: '#eee' }));
        g.append(svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, fmtAxis(max * i / 4) + unit));
      }
      for (const [x, text, anchor] of labels) g.append(svg('text', { x, y: H - 6, 'text-anchor': anchor }, text));
    }
    function fmtAxis(v) { return v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 'k' : v >= 10 ? v.toFixed(0) : v.toFixed(v >= 1 ? 1 : 2); }
    function requestsChart(id, points) {
      const max = Math.max(1, ...points.map((p) => p.requests));
      const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Requests over time: exact hits, semantic hits, misses' });
      const bw = (W - L - R) / Math.max(1, points.length);
      axes(root, max, '', [[L, fmt.time(points[0].start), 'start'], [W - R, fmt.time(points[points.length - 1].start), 'end']]);
      points.forEach((p, i) => {
        let y = H - B;
        for (const [n, color] of [[p.exact_hits, '#2563eb'], [p.semantic_hits, '#7c3aed'], [p.misses, '#d1d5db']]) {
          if (!n) continue;
          const h = (H - T - B) * n / max;
          y -= h;
          root.append(svg('rect', { x: L + i * bw + 0.5, y, width: Math.max(1, bw - 1), height: h, fill: color }));
        }
      });
      document.getElementById(id).replaceChildren(root, legend([['exact hits', '#2563eb'], ['semantic hits', '#7c3aed'], ['misses', '#d1d5db']]));
    }
    function latencyChart(id, points) {
      const series = [['hit_p50_ms', '#2563eb', null, 'hits p50'], ['hit_p99_ms', '#2563eb', '4 3', 'hits p99'],
                      ['miss_p50_ms', '#d97706', null, 'misses p50'], ['miss_p99_ms', '#d97706', '4 3', 'misses p99']];
      const max = Math.max(1, ...points.flatMap((p) => series.map(([k]) => p[k] || 0)));
      const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Latency of hits and misses over time' });
      const step = (W - L - R) / Math.max(1, points.length - 1);
      axes(root, max, ' ms', [[L, fmt.time(points[0].start), 'start'], [W - R, fmt.time(points[points.length - 1].start), 'end']]);
      for (const [key, color, dash] of series) {
        let d = '', pen = 'M';
        points.forEach((p, i) => {
          if (p[key] === null || p[key] === undefined) { pen = 'M'; return; }
          d += `${pen}${(L + i * step).toFixed(1)},${(H - B - (H - T - B) * p[key] / max).toFixed(1)} `;
          pen = 'L';
        });
        if (d) root.append(svg('path', { d, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash }));
        points.forEach((p, i) => { if (p[key] !== null && p[key] !== undefined)
          root.append(svg('circle', { cx: L + i * step, cy: H - B - (H - T - B) * p[key] / max, r: 2, fill: color })); });
      }
      document.getElementById(id).replaceChildren(root, legend(series.map(([, c, , name]) => [name, c])));
    }
    function similarityChart(id, sim) {
      const from = 50, bins = 100 - from;
      const hits = sim.semantic_hits.slice(from), misses = sim.misses.slice(from);
      const max = Math.max(1, ...hits, ...misses);
      const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Similarity of semantic hits and of near misses, with the threshold' });
      const bw = (W - L - R) / bins;
      axes(root, max, '', [[L, '0.50', 'start'], [L + (W - L - R) / 2, '0.75', 'middle'], [W - R, '1.00', 'end']]);
      for (let i = 0; i < bins; i++) {
        for (const [n, color, off] of [[misses[i], '#9ca3af', 0], [hits[i], '#7c3aed', 0.5]]) {
          if (!n) continue;
          const h = (H - T - B) * n / max;
          root.append(svg('rect', { x: L + (i + off) * bw, y: H - B - h, width: bw / 2 - 0.5, height: h, fill: color }));
        }
      }
      const x = L + (W - L - R) * (sim.threshold - from / 100) / (bins / 100);
      if (sim.threshold !== null && sim.threshold >= from / 100) {
        root.append(svg('line', { x1: x, x2: x, y1: T, y2: H - B, stroke: '#dc2626', 'stroke-width': 2, id: 'threshold-line' }));
        root.append(svg('text', { x: x - 4, y: T + 12, 'text-anchor': 'end', fill: '#dc2626' }, 'threshold ' + sim.threshold.toFixed(2)));
      }
      const note = sim.verifier_threshold === undefined ? [] :
        [el('p', { class: 'hint', id: 'verifier-note' }, `Hits are decided by the verifier's probability (at least ${sim.verifier_threshold.toFixed(2)}), not by similarity alone.`)];
      document.getElementById(id).replaceChildren(root, legend([['semantic hits', '#7c3aed'], ['misses (best candidate)', '#9ca3af'], ['threshold', '#dc2626']]), ...note);
    }

    const views = {
      async overview() {
        let range = 'hour';
        const names = { hour: 'last hour', day: 'last day', week: 'last week' };
        const draw = async () => {
          const [t, s] = await Promise.all([api('GET', '/v1/admin/traffic?range=' + range), api('GET', '/v1/cache/stats?namespaces=0')]);
          const x = t.totals;
          tiles([
            ['Requests', fmt.int(x.requests), names[range], 'tile-requests'],
            ['Hit rate', fmt.pct(x.hit_rate), `${fmt.int(x.exact_hits)} exact · ${fmt.int(x.semantic_hits)} semantic · ${fmt.int(x.misses)} misses`, 'tile-hit-rate'],
            ['Hit rate, all time', fmt.pct(s.hit_rate), `${fmt.int(s.hits)} exact · ${fmt.int(s.semantic_hits)} semantic · ${fmt.int(s.misses)} misses`, 'tile-stats-hit-rate'],
            ['Tokens saved', fmt.int(x.saved_tokens), 'not sent to a provider', 'tile-saved-tokens'],
            ['Money saved', fmt.usd(x.saved_usd), 'spent ' + fmt.usd(x.cost_usd) + ' at the configured prices', 'tile-saved-usd'],
            ['Hit latency p50', fmt.ms(x.hit_p50_ms), 'p99 ' + fmt.ms(x.hit_p99_ms), 'tile-hit-latency'],
            ['Miss latency p50', fmt.ms(x.miss_p50_ms), 'p99 ' + fmt.ms(x.miss_p99_ms), 'tile-miss-latency'],
            ['Errors', fmt.int(x.errors), fmt.int(x.upstream_errors) + ' from providers', 'tile-errors'],
          ]);
          requestsChart('chart-requests', t.points);
          latencyChart('chart-latency', t.points);
          status('Updated ' + new Date().toLocaleTimeString('en-GB', { hour12: false }));
        };
        for (const b of document.querySelectorAll('#ranges button')) {
          b.addEventListener('click', () => {
            range = b.dataset.range;
            for (const o of document.querySelectorAll('#ranges button')) o.classList.toggle('current', o === b);
            draw().catch((e) => status(e.message, true));
          });
        }
        every(10000, draw);
      },

      async cache() {
        every(10000, async () => {
          const [s, t] = await Promise.all([api('GET', '/v1/cache/stats?namespaces=20'), api('GET', '/v1/admin/traffic?range=day')]);
          tiles([
            ['Entries', fmt.int(s.entries), fmt.bytes(s.bytes), 'tile-entries'],
            ['Namespaces', fmt.int(s.namespace_count), '', 'tile-namespaces'],
            ['Hit rate, all time', fmt.pct(s.hit_rate), `${fmt.int(s.hits + s.semantic_hits)} of ${fmt.int(s.hits + s.semantic_hits + s.misses)} lookups`, 'tile-stats-hit-rate'],
            ['Tokens saved', fmt.int(s.saved_prompt_tokens + s.saved_completion_tokens), 'prompt and completion', 'tile-saved'],
            ['Embedder', s.embedder, '', 'tile-embedder'],
          ]);
          similarityChart('chart-similarity', t.similarity);
          table('refusals', [['Reason'], ['Refusals', 'num']],
            Object.entries(t.refusals).sort((a, b) => b[1] - a[1]).map(([r, n]) => el('tr', {}, td(r), td(fmt.int(n), 'num'))),
            'No candidate above the threshold has been refused.');
          table('namespaces', [['Label'], ['Entries', 'num'], ['Lookups', 'num'], ['Hit rate', 'num']],
            s.namespaces.map((n) => el('tr', {}, td(n.label), td(fmt.int(n.entries), 'num'),
              td(fmt.int(n.hits + n.semantic_hits + n.misses), 'num'), td(fmt.pct(n.hit_rate), 'num'))));
          status('Updated ' + new Date().toLocaleTimeString('en-GB', { hour12: false }));
        });
      },

      async entries() {
        const show = (rows, similar) => table('entries',
          [['Prompt'], ['Model'], ['Label'], ...(similar ? [['Similarity', 'num']] : []), ['Hits', 'num'], ['Age'], ['']],
          rows.map((e) => el('tr', { id: 'entry-' + e.id, 'data-id': e.id },
            td(e.prompt, 'text'), td(e.model), td(e.label), ...(similar ? [td(e.similarity.toFixed(3), 'num')] : []),
            td(fmt.int(e.hits), 'num'), td(fmt.age(e.created_at)),
            el('td', {}, el('button', { onclick: () => view(e.id) }, 'View'), ' ',
              el('button', { class: 'danger', 'data-action': 'delete', onclick: () => remove(e) }, 'Delete')))),
          similar ? 'No entry is similar.' : 'The cache is empty.');
        const newest = async () => show((await api('GET', '/v1/cache/entries?limit=50')).data, false);
        const view = async (id) => {
          const e = await api('GET', '/v1/cache/entries/' + encodeURIComponent(id));
          const r = e.response || {};
          const c = r.choices && r.choices[0];
          const answer = (c && c.message && c.message.content) || (c && c.text) || (r.content && r.content[0] && r.content[0].text) || JSON.stringify(r, null, 2);
          const box = document.getElementById('entry');
          box.hidden = false;
          box.replaceChildren(el('h2', {}, 'Entry ' + e.id), el('p', {}, `${e.model} · ${e.label} · ${fmt.int(e.hits)} hits · stored ${fmt.age(e.created_at)} ago`),
            el('h2', {}, 'Prompt'), el('pre', { id: 'entry-prompt' }, e.prompt), el('h2', {}, 'Answer'), el('pre', { id: 'entry-answer' }, answer));
        };
        const remove = async (e) => {
          if (!confirm('Delete this entry?\n\n' + e.prompt.slice(0, 120))) return;
          await api('DELETE', '/v1/cache/entries/' + encodeURIComponent(e.id));
          const row = document.getElementById('entry-' + e.id);
          if (row) row.remove();
          status('Deleted entry ' + e.id + '.');
        };
        document.getElementById('search-form').addEventListener('submit', (ev) => {
          ev.preventDefault();
          const text = document.getElementById('search-text').value.trim();
          (text ? api('POST', '/v1/cache/search', { text, k: 20 }).then((r) => show(r.data, true)) : newest()).catch((e) => status(e.message, true));
        });
        document.getElementById('search-clear').addEventListener('click', () => newest().catch((e) => status(e.message, true)));
        document.getElementById('purge-form').addEventListener('submit', async (ev) => {
          ev.preventDefault();
          const kind = document.getElementById('purge-kind').value, value = document.getElementById('purge-value').value.trim();
          if (!value) return;
          if (!confirm(`Purge every entry of the ${kind} "${value}"? This cannot be undone.`)) { status('Nothing purged.'); return; }
          try {
            const r = await api('DELETE', `/v1/cache?${kind}=` + encodeURIComponent(value));
            status(`Purged ${fmt.int(r.purged)} entries from ${fmt.int(r.namespaces)} namespaces.`);
            await newest();
          } catch (e) { status(e.message, true); }
        });
        await newest();
      },

      async keys() {
        if (main.dataset.governance !== 'true') { status('Governance is off (server.auth: none): no keys, tenants or usage ledger.'); return; }
        const [tenants, keys, byModel, byKey] = await Promise.all([api('GET', '/v1/admin/tenants'), api('GET', '/v1/admin/keys'),
          api('GET', '/v1/admin/usage?by=model&since=7d'), api('GET', '/v1/admin/usage?by=key&since=7d')]);
        const bar = (spent, budget) => {
          if (!budget) return el('span', {}, fmt.usd(spent) + ' (no budget)');
          const b = el('div', { class: 'bar' + (spent > budget ? ' over' : '') }, el('span'));
          b.firstChild.style.width = Math.min(100, 100 * spent / budget).toFixed(1) + '%';
          return el('div', {}, b, `${fmt.usd(spent)} of ${fmt.usd(budget)}`);
        };
        table('tenants', [['Tenant'], ['Keys', 'num'], ['Spent this month against budget'], ['Spent today', 'num'], ['rpm', 'num'], ['tpm', 'num']],
          tenants.data.map((t) => el('tr', { id: 'tenant-' + t.id }, td(t.id), td(fmt.int(t.keys), 'num'), el('td', {}, bar(t.spent_month || 0, t.budget_usd)),
            td(fmt.usd(t.spent_day), 'num'), td(t.rpm ?? '–', 'num'), td(t.tpm ?? '–', 'num'))), 'No tenants.');
        const usage = Object.fromEntries(byKey.data.map((u) => [u.group, u]));
        table('keys', [['Key'], ['Name'], ['Tenant'], ['Status'], ['Requests (7 d)', 'num'], ['Refused (429)', 'num'], ['Spent this month against budget']],
          keys.data.map((k) => { const u = usage[k.id] || {};
            return el('tr', { id: 'key-' + k.id }, td(k.id), td(k.name), td(k.tenant), el('td', {}, badge(k.status)),
              td(fmt.int(u.requests), 'num'), td(fmt.int(u.refused), 'num'), el('td', {}, bar(k.spent_month || 0, k.budget_usd))); }), 'No keys.');
        table('models', [['Model'], ['Requests', 'num'], ['Hits', 'num'], ['Tokens', 'num'], ['Cost', 'num'], ['Saved', 'num']],
          byModel.data.sort((a, b) => b.requests - a.requests).slice(0, 10).map((m) => el('tr', {}, td(m.group), td(fmt.int(m.requests), 'num'),
            td(fmt.int(m.exact_hits + m.semantic_hits), 'num'), td(fmt.int(m.prompt_tokens + m.completion_tokens), 'num'),
            td(fmt.usd(m.cost), 'num'), td(fmt.usd(m.saved_cost_exact + m.saved_cost_semantic), 'num'))), 'No usage yet.');
      },

      async deployments() {
        every(5000, async () => {
          const d = await api('GET', '/v1/admin/deployments');
          table('deployments', [['Model'], ['Deployment'], ['Breaker'], ['Error rate', 'num'], ['Requests', 'num'], ['In flight', 'num'], ['Latency', 'num'], ['Weight', 'num']],
            d.data.map((x) => el('tr', {}, td(x.model), td(x.provider + '/' + (x.upstream_model || x.model)), el('td', {}, badge(x.state)),
              td(x.requests ? fmt.pct(x.failures / x.requests) : '–', 'num'), td(fmt.int(x.requests), 'num'), td(fmt.int(x.in_flight), 'num'),
              td(fmt.ms(x.latency_ms), 'num'), td(x.weight, 'num'))), 'No model has deployments.');
          status('Updated ' + new Date().toLocaleTimeString('en-GB', { hour12: false }));
        });
      },

      async live() {
        every(2000, async () => {
          const r = await api('GET', '/v1/admin/requests?limit=50');
          table('requests', [['Time'], ['Request'], ['Model'], ['Cache'], ['Similarity', 'num'], ['Status', 'num'], ['Latency', 'num'], ['Key'], ['Prompt']],
            r.data.map((q) => el('tr', {}, td(fmt.time(q.time)), td(q.method + ' ' + q.path), td(q.model || ''), el('td', {}, q.cache ? badge(q.cache) : ''),
              td(q.similarity !== undefined ? q.similarity.toFixed(3) : '', 'num'), td(q.status, 'num'), td(fmt.ms(q.latency_ms), 'num'),
              td(q.key || ''), td(q.prompt || '', 'text'))), 'No requests yet.');
        });
      },
    };

    if (main && views[main.dataset.view]) views[main.dataset.view]().catch((e) => status(e.message, true));
    """#
}
