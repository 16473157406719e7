// minmax dashboard: the runs page, a run's live page and the theory page.
// Plain JavaScript over the server's JSON API; charts by uPlot (vendored).
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const COL_P = "#1f77b4", COL_Q = "#ff7f0e", COL_D = "#d62728", COL_DSTAR = "#000000";

function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "";
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(digits === undefined ? (a >= 100 ? 1 : 3) : digits);
}

function ago(iso) {
  if (!iso || iso.startsWith("0001")) return "";
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (s < 0) return "just now";
  if (s < 60) return Math.round(s) + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return (s / 3600).toFixed(1) + " h ago";
  return new Date(iso).toLocaleString();
}

async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json().catch(() => ({ error: "the server answered " + r.status }));
  if (!r.ok) { const e = new Error(body.error || r.statusText); e.body = body; throw e; }
  return body;
}

// chartBox makes a titled box for a chart inside parent.
function chartBox(parent, title, id) {
  const box = document.createElement("div");
  box.className = "chart";
  if (id) box.id = id;
  const h = document.createElement("h3");
  h.textContent = title;
  box.appendChild(h);
  parent.appendChild(box);
  return box;
}

function chartWidth(el) { return Math.max(320, Math.min(el.clientWidth || 600, 1200) - 20); }

// lineChart draws series over a shared x (steps). series: [{label, color, dash, scale}].
function lineChart(el, xlabel, series, data, opts) {
  opts = opts || {};
  const scales = { x: { time: false } };
  const axes = [{ label: xlabel, size: 40 }];
  const used = {};
  series.forEach((s) => { used[s.scale || "y"] = true; });
  Object.keys(used).forEach((k, i) => {
    scales[k] = { distr: opts.log && k === "y" ? 3 : 1 };
    if (opts.range && opts.range[k]) scales[k].range = opts.range[k];
    axes.push({ scale: k, side: i === 0 ? 3 : 1, label: (opts.ylabels || {})[k] || "", size: 60, grid: { show: i === 0 } });
  });
  const u = new uPlot({
    width: chartWidth(el), height: opts.height || 260,
    scales: scales, axes: axes,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [{ label: xlabel }].concat(series.map((s) => ({
      label: s.label, stroke: s.color, width: s.width || 1.5, dash: s.dash, scale: s.scale || "y",
      points: { show: s.points || false, size: 5 }, spanGaps: true,
      value: (u, v) => fmt(v),
    }))),
  }, data, el);
  return u;
}

// ---------------------------------------------------------------- runs page

function runsPage() {
  let sortKey = "updated", asc = false, runs = [];
  const selected = new Set(JSON.parse(localStorage.getItem("minmax.compare") || "[]"));
  const metricSel = $("metric");
  const metricsList = [
    ["loss_d", "loss of D"], ["loss_g", "loss of G"], ["d_real", "mean D(real)"], ["d_fake", "mean D(fake)"],
    ["grad_norm_d", "gradient norm of D"], ["grad_norm_g", "gradient norm of G"],
    ["eval.images.fd", "FD"], ["eval.images.kid.mean", "KID"], ["eval.images.precision", "precision"], ["eval.images.recall", "recall"],
    ["eval.images.coverage", "coverage (PRDC)"], ["eval.images.conditional_accuracy", "class as asked"],
    ["eval.coverage.modes_covered", "modes covered"], ["eval.coverage.hq_fraction", "high-quality share"],
    ["eval.coverage.reverse_kl", "reverse KL"], ["eval.jsd_estimate", "JSD estimate"],
  ];
  metricsList.forEach(([k, label]) => { const o = document.createElement("option"); o.value = k; o.textContent = label; metricSel.appendChild(o); });
  metricSel.addEventListener("change", drawCompare);

  document.querySelectorAll("#runs th[data-key]").forEach((th) => th.addEventListener("click", () => {
    const k = th.dataset.key;
    if (sortKey === k) asc = !asc; else { sortKey = k; asc = k === "name"; }
    render();
  }));

  function key(r, k) {
    const s = r.scores || {};
    switch (k) {
      case "progress": return r.step;
      case "score1": return s.fd !== undefined ? s.fd : s.modes;
      case "score2": return s.precision !== undefined ? s.precision : s.jsd;
      case "score3": return s.recall !== undefined ? s.recall : s.hq_fraction;
      case "updated": return r.updated || "";
      default: return r[k];
    }
  }

  function render() {
    const body = document.querySelector("#runs tbody");
    $("empty").hidden = runs.length > 0;
    $("runs").hidden = runs.length === 0;
    const sorted = runs.slice().sort((a, b) => {
      let x = key(a, sortKey), y = key(b, sortKey);
      if (x === undefined || x === null) x = asc ? Infinity : -Infinity;
      if (y === undefined || y === null) y = asc ? Infinity : -Infinity;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return asc ? c : -c;
    });
    document.querySelectorAll("#runs th[data-key]").forEach((th) => {
      th.classList.toggle("sorted", th.dataset.key === sortKey);
      th.classList.toggle("asc", th.dataset.key === sortKey && asc);
    });
    body.textContent = "";
    for (const r of sorted) {
      const tr = document.createElement("tr");
      tr.dataset.run = r.name;
      const s = r.scores || {};
      const img = r.kind === "images";
      const cells = [
        null,
        null,
        null,
        r.data + (r.kind === "points" ? " (" + r.dim + "-D)" : ""),
        r.arch, r.loss,
        r.step + " / " + r.steps,
        img ? fmt(s.fd, 1) : (s.modes !== undefined ? s.modes + " / " + s.modes_total : ""),
        img ? fmt(s.precision) : fmt(s.jsd, 4),
        img ? fmt(s.recall) : fmt(s.hq_fraction),
        ago(r.updated),
      ];
      cells.forEach((c, i) => {
        const td = document.createElement("td");
        if (i === 0) {
          const cb = document.createElement("input");
          cb.type = "checkbox"; cb.checked = selected.has(r.name);
          cb.addEventListener("change", () => { cb.checked ? selected.add(r.name) : selected.delete(r.name); saveSel(); drawCompare(); });
          td.appendChild(cb);
        } else if (i === 1) {
          const a = document.createElement("a"); a.href = "/runs/" + encodeURIComponent(r.name); a.textContent = r.name; td.appendChild(a);
        } else if (i === 2) {
          const b = document.createElement("span"); b.className = "badge " + r.status; b.textContent = r.status;
          if (r.error) b.title = r.error;
          td.appendChild(b);
        } else {
          td.textContent = c;
          if (i >= 6 && i <= 9) td.className = "num";
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
  }

  function saveSel() { localStorage.setItem("minmax.compare", JSON.stringify([...selected])); }

  let compareChart = null, lastCompare = "";
  async function drawCompare() {
    const names = runs.map((r) => r.name).filter((n) => selected.has(n));
    $("compare").hidden = names.length === 0;
    if (names.length === 0) return;
    const metric = metricSel.value;
    const sig = metric + "|" + names.join(",") + "|" + names.map((n) => (runs.find((r) => r.name === n) || {}).step).join(",");
    if (sig === lastCompare) return;
    lastCompare = sig;
    const path = metric.split(".");
    const per = await Promise.all(names.map((n) => getJSON("/api/runs/" + encodeURIComponent(n) + "/metrics").then((m) => {
      const pts = new Map();
      for (const rec of m.records) {
        let v = rec;
        for (const p of path) v = v === null || v === undefined ? undefined : v[p];
        if (typeof v === "number") pts.set(rec.step, v);
      }
      return pts;
    })));
    const xs = [...new Set(per.flatMap((p) => [...p.keys()]))].sort((a, b) => a - b);
    const data = [xs].concat(per.map((p) => xs.map((x) => (p.has(x) ? p.get(x) : null))));
    const el = $("comparechart");
    if (compareChart) compareChart.destroy();
    el.textContent = "";
    const sparse = xs.length < 100;
    compareChart = lineChart(el, "step", names.map((n, i) => ({ label: n, color: COLORS[i % COLORS.length], points: sparse })), data, { height: 320 });
  }

  async function poll() {
    try {
      const ans = await getJSON("/api/runs");
      runs = ans.runs;
      $("roots").textContent = "Runs found in " + ans.roots.join(", ") + " (refreshed every 2 s).";
      render();
      drawCompare();
    } catch (e) {
      $("roots").textContent = "The server does not answer: " + e.message;
    }
  }
  poll();
  setInterval(poll, 2000);
}

// ----------------------------------------------------------------- run page

function get(rec, path) {
  let v = rec;
  for (const p of path) { if (v === null || v === undefined) return undefined; v = v[p]; }
  return v;
}

function runPage() {
  const name = decodeURIComponent(location.pathname.split("/").pop());
  $("name").textContent = name;
  document.title = "minmax: " + name;
  const api = "/api/runs/" + encodeURIComponent(name);
  let detail = null;
  const steps = { x: [], loss_d: [], loss_g: [], d_real: [], d_fake: [], grad_norm_d: [], grad_norm_g: [] };
  const evals = []; // eval records
  const charts = {};
  let dirty = false;

  getJSON(api).then((d) => { $("config").textContent = d.config; });

  function resetData() {
    for (const k in steps) steps[k].length = 0;
    evals.length = 0;
    for (const k in charts) { charts[k].u.destroy(); charts[k].box.remove(); delete charts[k]; }
  }

  function addRecords(recs) {
    for (const r of recs) {
      if (r.eval) { evals.push(r.eval); continue; }
      if (r.loss_d === undefined) continue;
      steps.x.push(r.step);
      for (const k of ["loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"]) steps[k].push(r[k] === null ? null : r[k]);
    }
    dirty = true;
    schedule();
  }

  // chart makes (once) or updates the chart id with series over xs.
  function chart(id, title, series, data, opts) {
    const c = charts[id];
    if (c && c.n === series.length) { c.u.setData(data); return; }
    if (c) { c.u.destroy(); c.box.remove(); }
    const box = chartBox($("charts"), title, "chart-" + id);
    const inner = document.createElement("div");
    box.appendChild(inner);
    if (opts && opts.note) { const p = document.createElement("p"); p.className = "legend-note"; p.textContent = opts.note; box.appendChild(p); }
    charts[id] = { u: lineChart(inner, "step", series, data, opts), box: box, n: series.length };
  }

  function evalSeries(paths) {
    const xs = evals.map((e) => e.step);
    return [xs].concat(paths.map((p) => evals.map((e) => { const v = get(e, p); return typeof v === "number" ? v : null; })));
  }

  function draw() {
    if (!dirty || !detail) return;
    dirty = false;
    performance.mark("minmax:draw");
    if (steps.x.length > 0) {
      const eq = detail.equilibrium;
      const series = [{ label: "loss of D", color: COL_D }, { label: "loss of G", color: COL_P }];
      const data = [steps.x, steps.loss_d, steps.loss_g];
      if (eq) { series.push({ label: eq.label, color: "#000", dash: [6, 4], width: 1 }); data.push(steps.x.map(() => eq.value)); }
      chart("losses", "Losses (" + detail.loss + ")", series, data);
      chart("dout", "Mean D on real and generated samples (logits)", [
        { label: "D(real)", color: COL_P }, { label: "D(fake)", color: COL_Q }, { label: "0: D cannot tell (P = Q_G)", color: "#000", dash: [6, 4], width: 1 }],
        [steps.x, steps.d_real, steps.d_fake, steps.x.map(() => 0)]);
      const pos = (a) => a.map((v) => (v > 0 ? v : null));
      chart("grads", "Gradient norms (log scale)", [{ label: "|grad D|", color: COL_D }, { label: "|grad G|", color: COL_P }],
        [steps.x, pos(steps.grad_norm_d), pos(steps.grad_norm_g)], { log: true });
    }
    if (evals.length === 0) return;
    const last = evals[evals.length - 1];
    const sparse = evals.length < 60;
    if (last.images) {
      chart("fd", "Fréchet distance and KID in the evaluator's features (lower is better)",
        [{ label: "FD", color: COL_D, points: sparse }, { label: "KID", color: COL_P, points: sparse, scale: "kid" }],
        evalSeries([["images", "fd"], ["images", "kid", "mean"]]), { ylabels: { y: "FD", kid: "KID" } });
      const s = [{ label: "precision", color: COLORS[0] }, { label: "recall", color: COLORS[1] }, { label: "density", color: COLORS[2] }, { label: "coverage", color: COLORS[3] }];
      const p = [["images", "precision"], ["images", "recall"], ["images", "density"], ["images", "coverage"]];
      if (last.images.conditional_accuracy !== undefined) { s.push({ label: "class as asked", color: COLORS[4] }); p.push(["images", "conditional_accuracy"]); }
      s.forEach((x) => { x.points = sparse; });
      // Density can exceed 1; the others are shares.
      chart("prdc", "Precision, recall, density, coverage" + (p.length > 4 ? ", class accuracy" : ""), s, evalSeries(p),
        { range: { y: (u, lo, hi) => [0, Math.max(1.05, hi === null ? 1 : hi * 1.05)] } });
    }
    if (last.coverage) {
      chart("modes", "Modes covered (of " + last.coverage.modes_total + ") and high-quality share",
        [{ label: "modes covered", color: COL_P, points: sparse }, { label: "high-quality share", color: COL_Q, points: sparse, scale: "frac" }],
        evalSeries([["coverage", "modes_covered"], ["coverage", "hq_fraction"]]), { range: { y: [0, last.coverage.modes_total], frac: [0, 1] }, ylabels: { y: "modes", frac: "share" } });
      // Reverse KL is infinite (null) until some sample is of high quality.
      if (evals.some((e) => e.coverage && typeof e.coverage.reverse_kl === "number")) {
        chart("rkl", "Reverse KL of the mode histogram (nats; no value while no sample is of high quality)", [{ label: "reverse KL", color: COL_D, points: sparse }], evalSeries([["coverage", "reverse_kl"]]));
      }
    }
    if (evals.some((e) => typeof e.jsd_estimate === "number")) {
      const pts = evals.filter((e) => typeof e.jsd_estimate === "number");
      chart("jsd", "JSD(P || Q_G) estimated by a fresh discriminator (eq. 7: log 2 − V_D/2)",
        [{ label: "JSD estimate", color: COL_D, points: true }, { label: "log 2: no overlap", color: "#000", dash: [6, 4], width: 1 }],
        [pts.map((e) => e.step), pts.map((e) => e.jsd_estimate), pts.map(() => Math.LN2)]);
    }
    if (last.spectral_norms) {
      // Dozens of layers do not make a readable chart: per player, the
      // largest and the median σ, and one layer chosen in the menu.
      const names = Object.keys(last.spectral_norms).sort();
      const sel = sigmaMenu(names);
      const stat = (prefix, f) => evals.map((e) => {
        const v = Object.keys(e.spectral_norms || {}).filter((k) => k.startsWith(prefix)).map((k) => e.spectral_norms[k]).filter((x) => typeof x === "number").sort((a, b) => a - b);
        return v.length ? f(v) : null;
      });
      const maxOf = (v) => v[v.length - 1], median = (v) => v[Math.floor(v.length / 2)];
      const series = [{ label: "D: largest σ", color: COL_D }, { label: "D: median σ", color: COL_D, dash: [4, 3] },
        { label: "G: largest σ", color: COL_P }, { label: "G: median σ", color: COL_P, dash: [4, 3] }];
      const data = [evals.map((e) => e.step), stat("D.", maxOf), stat("D.", median), stat("G.", maxOf), stat("G.", median)];
      if (sel) { series.push({ label: sel, color: "#2ca02c", width: 2 }); data.push(evals.map((e) => { const v = (e.spectral_norms || {})[sel]; return typeof v === "number" ? v : null; })); }
      series.forEach((x) => { x.points = sparse; });
      chart("sigma", "Spectral norms σ of the normalised weights (" + names.length + " layers)", series, data,
        { note: "σ of each weight W, estimated by power iteration; the layer uses W/σ, so its own spectral norm is 1. Pick a layer to add it:" });
      const box = charts.sigma.box;
      if (!box.querySelector("select")) box.appendChild(sigmaSelect);
    }
  }
  let sigmaSelect = null, sigmaChoice = "";
  function sigmaMenu(names) {
    if (!sigmaSelect) {
      sigmaSelect = document.createElement("select");
      sigmaSelect.id = "sigmalayer";
      sigmaSelect.addEventListener("change", () => { sigmaChoice = sigmaSelect.value; if (charts.sigma) { charts.sigma.u.destroy(); charts.sigma.box.remove(); delete charts.sigma; } dirty = true; schedule(); });
    }
    if (sigmaSelect.options.length !== names.length + 1) {
      sigmaSelect.textContent = "";
      [""].concat(names).forEach((n) => { const o = document.createElement("option"); o.value = n; o.textContent = n || "(no single layer)"; sigmaSelect.appendChild(o); });
      sigmaSelect.value = sigmaChoice;
    }
    return sigmaChoice;
  }
  // Draw once per frame at most, as soon as new data arrive.
  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); performance.mark("minmax:drawn"); });
  }

  // Snapshots: the slider over steps.
  let snaps = [], shown = -1;
  const slider = $("slider");
  slider.addEventListener("input", () => { $("follow").checked = Number(slider.value) === snaps.length - 1; showSnap(Number(slider.value)); });
  function setSnaps(list) {
    const changed = list.length !== snaps.length || (list.length && JSON.stringify(list[list.length - 1]) !== JSON.stringify(snaps[snaps.length - 1]));
    snaps = list;
    $("snapshot").hidden = snaps.length === 0;
    if (!changed || snaps.length === 0) return;
    slider.max = snaps.length - 1;
    if ($("follow").checked || shown < 0) { slider.value = snaps.length - 1; showSnap(snaps.length - 1); }
  }
  let gameChart = null;
  async function showSnap(i) {
    const s = snaps[i];
    if (!s) return;
    shown = i;
    $("snapstep").textContent = s.step;
    if (s.grid) {
      const g = $("grid");
      g.hidden = false;
      g.src = s.grid + "?v=" + s.step;
      $("snapnote").textContent = "The grid of 64 samples that the run drew at step " + s.step + " (samples/step_" + String(s.step).padStart(6, "0") + ".png).";
      return;
    }
    if (!s.field) return;
    const f = await getJSON(s.field);
    if (shown !== i) return;
    if (f.dim === 2) drawPlane(f); else drawGame(f);
    if (f.nonfinite) $("snapnote").textContent += "  Warning: " + f.nonfinite + " values of D were not finite (drawn as 0).";
  }

  function drawPlane(f) {
    const c = $("plane");
    c.hidden = false;
    const ctx = c.getContext("2d");
    const W = c.width, n = f.n;
    let lim = 1e-3;
    const abs = f.d.map(Math.abs).sort((a, b) => a - b);
    lim = Math.max(abs[Math.floor(abs.length * 0.98)], 1e-3);
    const img = ctx.createImageData(n, n);
    for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) {
      const v = Math.max(-1, Math.min(1, f.d[iy * n + ix] / lim));
      const o = 4 * ((n - 1 - iy) * n + ix);
      // red where D judges real (v > 0), blue where fake, white at 0
      img.data[o] = v > 0 ? 255 : Math.round(255 * (1 + v));
      img.data[o + 1] = Math.round(255 * (1 - Math.abs(v)) * 0.95 + 10 * (1 - Math.abs(v)));
      img.data[o + 2] = v < 0 ? 255 : Math.round(255 * (1 - v));
      img.data[o + 3] = 255;
    }
    const tmp = document.createElement("canvas");
    tmp.width = n; tmp.height = n;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, W, W);
    ctx.globalAlpha = 0.55;
    ctx.drawImage(tmp, 0, 0, W, W);
    ctx.globalAlpha = 1;
    const px = (x) => ((x - f.lo) / (f.hi - f.lo)) * W, py = (y) => W - ((y - f.lo) / (f.hi - f.lo)) * W;
    const dots = (pts, col) => { ctx.fillStyle = col; for (let i = 0; i + 1 < pts.length; i += 2) { ctx.beginPath(); ctx.arc(px(pts[i]), py(pts[i + 1]), 2.2, 0, 2 * Math.PI); ctx.fill(); } };
    dots(f.real, COL_P);
    dots(f.fake, COL_Q);
    $("snapnote").textContent = "Step " + f.step + ": real points (blue) from P and generated points (orange) from Q_G, over D(x) " +
      "(red: D judges real, blue: fake; colour saturates at |D| = " + fmt(lim) + "). The view is [" + fmt(f.lo) + ", " + fmt(f.hi) + "]².";
  }

  function drawGame(f) {
    const el = $("game");
    el.hidden = false;
    const sig = (v) => 1 / (1 + Math.exp(-v));
    const floor = 1e-3 * Math.max(...f.p);
    const post = f.p.map((p, i) => (Math.max(p, f.q[i]) > floor ? p / (p + f.q[i]) : null));
    const data = [f.x, f.p, f.q, f.d.map(sig), post, f.x.map(() => 0.5)];
    if (gameChart) { gameChart.setData(data); } else {
      el.textContent = "";
      gameChart = lineChart(el, "x", [
        { label: "P (data)", color: COL_P, width: 2 }, { label: "Q_G (kernel density)", color: COL_Q, width: 2 },
        { label: "sigmoid(D)", color: COL_D, scale: "prob" }, { label: "sigmoid(D*) = P/(P+Q_G) (eq. 6)", color: COL_DSTAR, dash: [6, 4], scale: "prob" },
        { label: "1/2: P = Q_G (eq. 10)", color: "#999", dash: [2, 4], width: 1, scale: "prob" },
      ], data, { height: 340, range: { prob: [0, 1] }, ylabels: { y: "density", prob: "probability x is real" } });
    }
    $("snapnote").textContent = "Step " + f.step + ": the seed's game on the line. D tracks D* = log P/Q_G while G moves Q_G towards P.";
  }

  // The sampler.
  function sampleURL(fmtName) {
    const p = new URLSearchParams({ n: $("sn").value, seed: $("sseed").value });
    if ($("sclass").value !== "") p.set("class", $("sclass").value);
    if (Number($("strunc").value) > 0) p.set("truncation", $("strunc").value);
    if (fmtName) p.set("format", fmtName);
    return api + "/samples?" + p.toString();
  }
  $("sampleform").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("serror").hidden = true;
    $("snpy").href = sampleURL("npy");
    if (detail.kind === "images") {
      const r = await fetch(sampleURL());
      if (!r.ok) { const e = await r.json(); $("serror").hidden = false; $("serror").textContent = (e.param ? e.param + ": " : "") + e.error; return; }
      const img = $("sampleimg");
      img.src = URL.createObjectURL(await r.blob());
      img.hidden = false;
      return;
    }
    try {
      const ans = await getJSON(sampleURL("json"));
      drawPoints(ans.points);
    } catch (e) { $("serror").hidden = false; $("serror").textContent = (e.body && e.body.param ? e.body.param + ": " : "") + e.message; }
  });
  function drawPoints(pts) {
    const c = $("samplepts");
    c.hidden = false;
    const ctx = c.getContext("2d"), W = c.width;
    ctx.clearRect(0, 0, W, W);
    const dim = pts[0].length;
    const xs = pts.map((p) => p[0]), ys = dim > 1 ? pts.map((p) => p[1]) : pts.map((_, i) => i / pts.length);
    const lo = Math.min(...xs, ...(dim > 1 ? ys : [])), hi = Math.max(...xs, ...(dim > 1 ? ys : []));
    const pad = 0.05 * (hi - lo || 1);
    const sx = (x) => ((x - lo + pad) / (hi - lo + 2 * pad)) * W;
    const sy = dim > 1 ? (y) => W - ((y - lo + pad) / (hi - lo + 2 * pad)) * W : (y) => W - y * W;
    ctx.fillStyle = COL_Q;
    for (let i = 0; i < pts.length; i++) { ctx.beginPath(); ctx.arc(sx(xs[i]), sy(ys[i]), 2, 0, 2 * Math.PI); ctx.fill(); }
  }

  function setDetail(d) {
    detail = d;
    const st = $("status");
    st.textContent = d.status;
    st.className = "badge " + d.status;
    $("bar").style.width = (d.steps > 0 ? Math.min(100, (100 * d.step) / d.steps) : 0) + "%";
    $("facts").textContent = "step " + d.step + " of " + d.steps + " · " + d.data + (d.kind === "points" ? " (" + d.dim + "-D points)" : "") +
      " · " + d.arch + " · loss " + d.loss + (d.preset ? " · preset " + d.preset : "") + " · seed " + d.seed +
      (d.precision ? " · products in " + d.precision : "");
    $("error").hidden = !d.error;
    $("error").textContent = d.error || "";
    setSnaps(d.snapshots || []);
    $("sampler").hidden = !d.generator;
    if (d.kind !== "images") { $("sn").value = Math.min(Number($("sn").value) < 100 ? 500 : Number($("sn").value), 1024); }
    if (d.classes && d.classes.length && $("sclass").options.length === 1) {
      $("sclasslabel").hidden = false;
      d.classes.forEach((c, i) => { const o = document.createElement("option"); o.value = String(i); o.textContent = i + ": " + c; $("sclass").appendChild(o); });
    }
    const pics = d.pictures || [];
    $("pictures").hidden = pics.length === 0;
    const gal = $("gallery");
    if (gal.dataset.sig !== pics.join(",") + d.updated) {
      gal.dataset.sig = pics.join(",") + d.updated;
      gal.textContent = "";
      for (const p of pics) {
        const a = document.createElement("a"); a.href = p; a.target = "_blank";
        const im = document.createElement("img"); im.src = p + "?t=" + Date.now(); im.alt = p.split("/").pop(); im.title = im.alt;
        a.appendChild(im); gal.appendChild(a);
      }
    }
    dirty = true;
    schedule();
  }

  const es = new EventSource(api + "/events");
  performance.mark("minmax:stream-opened");
  es.addEventListener("detail", (e) => { performance.mark("minmax:detail"); setDetail(JSON.parse(e.data)); });
  es.addEventListener("metrics", (e) => { performance.mark("minmax:metrics"); addRecords(JSON.parse(e.data).records); });
  es.addEventListener("reset", () => resetData());
  es.addEventListener("failure", (e) => { $("error").hidden = false; $("error").textContent = JSON.parse(e.data).error; });
}

// -------------------------------------------------------------- theory page

function theoryPage() {
  const params = new URLSearchParams(location.search);
  if (params.get("p")) $("p").value = params.get("p");
  if (params.get("q")) $("q").value = params.get("q");
  let chart = null;
  async function compute() {
    const p = $("p").value, q = $("q").value;
    $("p").classList.remove("bad"); $("q").classList.remove("bad");
    $("perror").hidden = true;
    history.replaceState(null, "", "/theory?" + new URLSearchParams({ p: p, q: q }).toString());
    let a;
    try {
      a = await getJSON("/api/theory?" + new URLSearchParams({ p: p, q: q }).toString());
    } catch (e) {
      const b = e.body || {};
      const pe = $("perror");
      pe.hidden = false;
      let msg = (b.param ? b.param.toUpperCase() + ": " : "") + e.message;
      if (b.spec && b.pos) msg += "\n  " + b.spec + "\n  " + " ".repeat(b.pos - 1) + "^ column " + b.pos;
      pe.textContent = msg;
      if (b.param === "p" || b.param === "q") $(b.param).classList.add("bad");
      $("figures").hidden = true;
      return;
    }
    $("figures").hidden = false;
    $("jsd").textContent = String(a.jsd);
    $("jsdbits").textContent = a.jsd_bits.toFixed(10);
    $("jsderr").textContent = a.jsd_err.toExponential(1);
    $("vd1").textContent = String(a.vd_star_eq1);
    $("vd7").textContent = String(a.vd_star_eq7);
    $("vddiff").textContent = (a.vd_star_eq1 - a.vd_star_eq7).toExponential(2);
    $("twolog2").textContent = String(a.two_log_2);
    const kl = (v) => (v === null ? "+∞ (a support is not covered)" : v.toFixed(10));
    $("kl").textContent = kl(a.kl_pq) + ", " + kl(a.kl_qp);
    $("deriv").textContent = a.deriv_max_at_dstar.toExponential(1) + "  (at D* + 0.5: " + fmt(a.deriv_max_at_dstar_plus_half) + ")";
    if (a.dim === 1) {
      $("theoryplane").hidden = true;
      const el = $("theorychart");
      el.hidden = false;
      if (chart) chart.destroy();
      el.textContent = "";
      chart = lineChart(el, "x", [
        { label: "P", color: COL_P, width: 2 }, { label: "Q", color: COL_Q, width: 2 },
        { label: "D*(x) = log P/Q (eq. 6)", color: COL_D, scale: "d" },
        { label: "D* = 0: P = Q there", color: "#999", dash: [4, 4], width: 1, scale: "d" },
      ], [a.x, a.p_density, a.q_density, a.d_star, a.x.map(() => 0)], { height: 360, ylabels: { y: "density", d: "D*" }, range: { d: dstarRange(a) } });
      $("theorynote").textContent = "D* is positive where P outweighs Q (x more likely real) and negative where Q does; infinite where only one has mass (not drawn).";
    } else {
      $("theorychart").hidden = true;
      drawDStarPlane(a);
    }
  }
  // dstarRange is D*'s axis over where P or Q has mass: in the far tails
  // D* runs off to ±∞ and would flatten the part that matters.
  function dstarRange(a) {
    const peak = Math.max(...a.p_density, ...a.q_density);
    const v = a.d_star.filter((d, i) => d !== null && Math.max(a.p_density[i], a.q_density[i]) > 0.01 * peak);
    if (v.length === 0) return null;
    let lo = Math.min(...v, 0), hi = Math.max(...v, 0);
    const pad = 0.1 * (hi - lo || 1);
    return [lo - pad, hi + pad];
  }
  function drawDStarPlane(a) {
    const c = $("theoryplane");
    c.hidden = false;
    const ctx = c.getContext("2d"), n = a.n, W = c.width;
    // Saturate the colours at the largest |D*| where P or Q has mass: in
    // the empty corners D* runs off towards ±∞.
    const peak = Math.max(...a.p_density, ...a.q_density);
    const vals = a.d_star.filter((v, i) => v !== null && Math.max(a.p_density[i], a.q_density[i]) > 0.01 * peak).map(Math.abs);
    const lim = Math.max(vals.length ? Math.max(...vals) : 1, 1e-3);
    const img = ctx.createImageData(n, n);
    for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) {
      const raw = a.d_star[iy * n + ix];
      const v = raw === null ? 0 : Math.max(-1, Math.min(1, raw / lim));
      const o = 4 * ((n - 1 - iy) * n + ix);
      img.data[o] = v > 0 ? 255 : Math.round(255 * (1 + v));
      img.data[o + 1] = Math.round(255 * (1 - Math.abs(v)));
      img.data[o + 2] = v < 0 ? 255 : Math.round(255 * (1 - v));
      img.data[o + 3] = 255;
    }
    const tmp = document.createElement("canvas");
    tmp.width = n; tmp.height = n;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.drawImage(tmp, 0, 0, W, W);
    $("theorynote").textContent = "D*(x) = log P/Q over [" + fmt(a.lo) + ", " + fmt(a.hi) + "]²: red where P outweighs Q, blue where Q does, white where they are equal (D* = 0); the colours saturate at |D*| = " + fmt(lim) + ", the largest value where P or Q has 1% of its peak density.";
  }
  $("theoryform").addEventListener("submit", (ev) => { ev.preventDefault(); compute(); });
  compute();
}

({ runs: runsPage, run: runPage, theory: theoryPage })[document.body.dataset.page]();
