// Selene's operator page: plain JavaScript over the REST API, no build step and nothing from the internet.
"use strict";
const $ = (id) => document.getElementById(id);
const STATUS = ["pending", "in_progress", "done", "restart", "failure", "pause", "handler_lost"];
const COLORS = ["#4cc38a", "#5aa9e6", "#e5a50a", "#e05d5d", "#b48ead", "#88c0d0"];
const escape = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
let auth = sessionStorage.getItem("selene-auth") || "";  // the Authorization header of the signed-in operator
let previewToken = sessionStorage.getItem("selene-preview-token") || "";  // for <img>, which cannot send headers
let streams = [];
const previews = new Set();  // stream ids whose preview is open

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (auth) headers.Authorization = auth;
  const response = await fetch(path, { ...options, headers });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error(body && body.detail ? `${body.error_code}: ${body.detail}` : `${path}: ${response.status}`);
  return body;
}
const sendJSON = (path, method, body) => api(path, { method, body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  auth = "Basic " + btoa(`${$("login-name").value}:${$("login-password").value}`);
  try {
    const account = await api("/6/account");
    const token = await sendJSON("/6/tokens", "POST", { permissions: { video_stream: ["view"] }, description: "operator page previews" });
    previewToken = token.token;
    sessionStorage.setItem("selene-auth", auth);
    sessionStorage.setItem("selene-preview-token", previewToken);
    $("who").textContent = account.login;
    refresh();
  } catch (error) {
    auth = "";
    $("who").textContent = "sign-in failed: " + error.message;
  }
});

function statusName(status) { return typeof status === "number" ? STATUS[status] : status; }
// Frames never analysed: the agent's drops plus the live frames the workers skipped as stale.
function dropped(d) {
  if (!d || d.agent + d.processing === 0) return "0";
  return `<span title="agent ${d.agent}, processing ${d.processing}">${d.agent + d.processing}</span>`;
}

async function refreshStreams() {
  const [page, live] = await Promise.all([api("/6/streams?page_size=100"), api("/6/monitoring/streams")]);
  streams = page.streams;
  const rates = Object.fromEntries(live.streams.map((s) => [s.stream_id, s]));
  $("streams").tBodies[0].innerHTML = streams.map((s) => {
    const status = statusName(s.status), rate = rates[s.stream_id];
    const paused = status === "pause";
    return `<tr data-stream="${s.stream_id}">
      <td>${escape(s.name || s.stream_id.slice(0, 8))}<div class="muted">${escape(s.data.reference)}</div></td>
      <td><span class="chip ${status}">${status.replace("_", " ")}</span></td>
      <td>${rate && status === "in_progress" ? rate.fps : "–"}</td>
      <td>${rate && status === "in_progress" ? rate.silent_s + " s" : "–"}</td>
      <td>${dropped(s.frames_dropped)}</td>
      <td class="error">${escape(s.last_error ? s.last_error.detail : "")}</td>
      <td><button data-act="preview">preview</button>
          <button data-act="${paused ? "resume" : "pause"}">${paused ? "resume" : "pause"}</button>
          <button data-act="delete">stop</button></td></tr>`;
  }).join("") || '<tr><td colspan="7" class="muted">No streams yet: register one below.</td></tr>';
  const names = streams.map((s) => `<option value="${s.stream_id}">${escape(s.name || s.stream_id.slice(0, 8))}</option>`).join("");
  for (const [id, first] of [["ev-stream", "every stream"], ["draw-source", "a blank frame"]]) {
    const chosen = $(id).value;
    $(id).innerHTML = `<option value="">${first}</option>` + names;
    $(id).value = chosen;
  }
  return rates;
}

$("streams").addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const id = button.closest("tr").dataset.stream;
  const act = button.dataset.act;
  try {
    if (act === "preview") togglePreview(id);
    else if (act === "delete") { await api(`/6/streams/${id}`, { method: "DELETE" }); previews.delete(id); renderPreviews(); }
    else await sendJSON(`/6/streams/${id}`, "PATCH", { action: act });
  } catch (error) { alert(error.message); }
  refreshStreams();
});

function togglePreview(id) {
  if (previews.has(id)) previews.delete(id); else previews.add(id);
  renderPreviews();
}

function previewUrl(id) { return `/6/streams/${id}/preview?token=${encodeURIComponent(previewToken)}`; }

function renderPreviews() {
  const root = $("previews");
  for (const figure of [...root.querySelectorAll("figure")]) if (!previews.has(figure.dataset.stream)) figure.remove();
  for (const id of previews) {
    if (root.querySelector(`figure[data-stream="${id}"]`)) continue;
    const stream = streams.find((s) => s.stream_id === id);
    const figure = document.createElement("figure");
    figure.dataset.stream = id;
    figure.innerHTML = `<img alt="preview" src="${previewUrl(id)}"><figcaption class="muted">${escape(stream ? stream.name || id : id)}</figcaption>`;
    root.append(figure);
  }
  const hint = root.querySelector("p");
  if (hint) hint.hidden = previews.size > 0;
}

// -- drawing roi, lines and zones on a frame (percent of the frame, so any resolution fits) --------
const canvas = $("canvas"), pen = canvas.getContext("2d");
let shapes = { roi: null, lines: [], zones: [] }, clicks = [], backdrop = null;

function drawCanvas() {
  pen.fillStyle = "#000"; pen.fillRect(0, 0, canvas.width, canvas.height);
  if (backdrop) pen.drawImage(backdrop, 0, 0, canvas.width, canvas.height);
  const px = (p) => [p.x * canvas.width / 100, p.y * canvas.height / 100];
  pen.lineWidth = 2;
  if (shapes.roi) {
    const r = shapes.roi; pen.strokeStyle = "#c8c8c8";
    pen.strokeRect(...px(r), r.width * canvas.width / 100, r.height * canvas.height / 100);
  }
  pen.strokeStyle = "#00a0ff";
  for (const line of shapes.lines) { pen.beginPath(); pen.moveTo(...px(line.start)); pen.lineTo(...px(line.end)); pen.stroke(); }
  pen.strokeStyle = "#c800ff";
  for (const zone of [...shapes.zones.map((z) => z.polygon), clicks]) {
    if (!zone.length) continue;
    pen.beginPath(); pen.moveTo(...px(zone[0])); for (const p of zone.slice(1)) pen.lineTo(...px(p));
    if (zone !== clicks) pen.closePath();
    pen.stroke();
  }
}

function writeParameters() {
  let parameters = {};
  try { parameters = JSON.parse($("reg-parameters").value || "{}"); } catch { /* replaced below */ }
  delete parameters.roi; delete parameters.lines; delete parameters.zones;
  if (shapes.roi) parameters.roi = { ...shapes.roi, mode: "percent" };
  if (shapes.lines.length) parameters.lines = shapes.lines;
  if (shapes.zones.length) parameters.zones = shapes.zones;
  $("reg-parameters").value = JSON.stringify(parameters, null, 1);
}

canvas.addEventListener("click", (event) => {
  const box = canvas.getBoundingClientRect();
  const round = (v) => Math.round(Math.min(100, Math.max(0, v)) * 10) / 10;
  clicks.push({ x: round((event.clientX - box.left) * 100 / box.width), y: round((event.clientY - box.top) * 100 / box.height) });
  const mode = $("draw-mode").value;
  if (mode === "roi" && clicks.length === 2) {
    const [a, b] = clicks;
    shapes.roi = { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: round(Math.abs(a.x - b.x)), height: round(Math.abs(a.y - b.y)) };
    clicks = [];
  } else if (mode === "line" && clicks.length === 2) {
    shapes.lines.push({ line_id: `line${shapes.lines.length + 1}`, start: clicks[0], end: clicks[1], mode: "percent" });
    clicks = [];
  }
  writeParameters(); drawCanvas();
});
canvas.addEventListener("dblclick", () => {
  if ($("draw-mode").value !== "zone") return;
  const polygon = clicks.filter((p, i) => i === 0 || p.x !== clicks[i - 1].x || p.y !== clicks[i - 1].y);
  if (polygon.length >= 3) shapes.zones.push({ zone_id: `zone${shapes.zones.length + 1}`, polygon, mode: "percent" });
  clicks = []; writeParameters(); drawCanvas();
});
$("draw-clear").addEventListener("click", () => { shapes = { roi: null, lines: [], zones: [] }; clicks = []; writeParameters(); drawCanvas(); });
$("draw-source").addEventListener("change", () => {
  const id = $("draw-source").value;
  backdrop = null; drawCanvas();
  if (!id) return;
  const image = new Image();  // one MJPEG part is enough: the browser shows the first frame as it arrives
  image.onload = () => { backdrop = image; drawCanvas(); };
  image.src = previewUrl(id);
});

$("register").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const parameters = JSON.parse($("reg-parameters").value || "{}");
    const body = { name: $("reg-name").value, data: { type: $("reg-type").value, reference: $("reg-reference").value },
                   analytics: [{ name: $("reg-analytic").value, parameters }] };
    const created = await sendJSON("/6/streams", "POST", body);
    $("reg-result").textContent = "registered " + created.stream_id;
    await refreshStreams();
    previews.add(created.stream_id); renderPreviews();
  } catch (error) { $("reg-result").textContent = error.message; }
});

// -- events --------------------------------------------------------------------------------------
async function refreshEvents() {
  const query = new URLSearchParams({ page_size: "20" });
  if ($("ev-type").value) query.set("event_types", $("ev-type").value);
  if ($("ev-stream").value) query.set("stream_ids", $("ev-stream").value);
  const { events } = await api(`/6/analytics_events?${query}`);
  const names = Object.fromEntries(streams.map((s) => [s.stream_id, s.name || s.stream_id.slice(0, 8)]));
  $("events").tBodies[0].innerHTML = events.map((e) => {
    const details = e.event || {};
    const summary = ["people_count", "track_id", "line_id", "zone_id", "direction", "event_status"]
      .filter((k) => details[k] !== undefined && details[k] !== null).map((k) => `${k}: ${escape(details[k])}`).join(", ");
    const overview = details.overview ? `<img alt="overview" src="data:image/jpeg;base64,${details.overview}">` : "";
    return `<tr data-event="${e.event_id}"><td>${escape(e.create_time)}</td><td>${escape(names[e.stream_id] || e.stream_id)}</td>
      <td>${escape(e.event_type)}</td><td>${summary}</td><td>${overview}</td></tr>`;
  }).join("") || '<tr><td colspan="5" class="muted">No events yet.</td></tr>';
}
$("ev-refresh").addEventListener("click", refreshEvents);
$("ev-type").addEventListener("change", refreshEvents);
$("ev-stream").addEventListener("change", refreshEvents);

// -- tasks: the newest 10, running ones with their done/total subtasks -----------------------------------
const TASK_TYPES = ["unknown", "linker", "clustering", "reporter", "gc", "additional_extraction", "cross_match", "roc", "exporter", "estimator"];
const TASK_STATUS = ["pending", "in_progress", "cancelled", "failed", "collect_results", "done"];
async function refreshTasks() {
  const { tasks } = await api("/6/tasks?page_size=10");
  $("tasks").tBodies[0].innerHTML = tasks.map((t) => {
    const all = t.count_task_parts_all, done = t.count_task_parts_done;
    const share = all ? Math.round((100 * done) / all) : 0;
    return `<tr data-task="${t.task_id}"><td>${t.task_id}</td><td>${escape(TASK_TYPES[t.task_type] || t.task_type)}</td>
      <td><span class="chip ${TASK_STATUS[t.task_status]}">${escape(TASK_STATUS[t.task_status] || t.task_status)}</span></td>
      <td><progress max="${all || 1}" value="${done}"></progress> ${done}/${all} (${share}%)</td>
      <td>${escape(t.description)}</td><td>${escape(t.create_time)}</td></tr>`;
  }).join("") || '<tr><td colspan="6" class="muted">No tasks yet.</td></tr>';
}

// -- faces and lists -------------------------------------------------------------------------------
async function refreshLists() {
  const { lists } = await api("/6/lists?page_size=100");
  const chosen = $("lists").value;
  $("lists").innerHTML = lists.map((l) => `<option value="${l.list_id}">${escape(l.user_data || l.list_id.slice(0, 8))} (${l.faces_count ?? 0})</option>`).join("")
    || '<option value="">no lists yet</option>';
  if (chosen) $("lists").value = chosen;
}
const fileBase64 = (file) => new Promise((resolve) => {
  const reader = new FileReader();
  reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
  reader.readAsDataURL(file);
});
$("list-create").addEventListener("click", async () => {
  try { await sendJSON("/6/lists", "POST", { user_data: $("list-name").value }); await refreshLists(); }
  catch (error) { $("faces-result").textContent = error.message; }
});
$("enrol").addEventListener("click", async () => {
  const file = $("enrol-photo").files[0];
  if (!file || !$("lists").value) { $("faces-result").textContent = "choose a photo and a list"; return; }
  const query = new URLSearchParams({ list_id: $("lists").value, multiface_policy: "2", external_id: $("enrol-name").value });
  try {
    const face = await api(`/6/faces?${query}`, { method: "POST", body: file, headers: { "Content-Type": file.type || "image/jpeg" } });
    $("faces-result").textContent = "enrolled face " + face.face_id; await refreshLists();
  } catch (error) { $("faces-result").textContent = error.message; }
});
$("search").addEventListener("click", async () => {
  const file = $("search-photo").files[0];
  if (!file) { $("faces-result").textContent = "choose a photo"; return; }
  const filters = $("lists").value ? { list_id: $("lists").value } : {};
  try {
    const [result] = await sendJSON("/6/matcher/faces", "POST", {
      references: [{ type: "image", id: "photo", data: await fileBase64(file) }], candidates: [{ filters, limit: 5 }] });
    const found = (result.matches || []).flatMap((m) => m.result || []);
    $("faces-result").innerHTML = found.length ? found.map((c) =>
      `${escape(c.face ? c.face.external_id || c.face.face_id : "")} similarity ${Number(c.similarity).toFixed(3)}`).join("<br>") : "no match";
  } catch (error) { $("faces-result").textContent = error.message; }
});

// -- people counts over the last hour: a fixed time axis, and a dot per sample, so the first minute shows
function renderChart(series) {
  const svg = $("chart"), names = Object.keys(series);
  const t1 = Date.now(), t0 = t1 - 3600 * 1000;
  const vmax = Math.max(1, ...names.flatMap((n) => series[n].map((p) => p[1])));
  const x = (t) => 20 + (960 * (t - t0)) / (t1 - t0), y = (v) => 185 - (165 * v) / vmax;
  const time = (text) => Date.parse(text.replace(" ", "T") + (text.endsWith("Z") ? "" : "Z"));
  let body = `<line x1="20" y1="185" x2="980" y2="185" stroke="#24303d"/><text x="22" y="14" fill="#8b98a5" font-size="12">${vmax}</text>`;
  names.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    const points = series[name].map((p) => [x(time(p[0])).toFixed(1), y(p[1]).toFixed(1)]);
    body += `<path d="${points.map((p, j) => `${j ? "L" : "M"}${p[0]},${p[1]}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`;
    body += points.map((p) => `<circle cx="${p[0]}" cy="${p[1]}" r="4" fill="${color}"/>`).join("");
  });
  svg.innerHTML = body;
  const label = Object.fromEntries(streams.map((s) => [s.stream_id, s.name || s.stream_id.slice(0, 8)]));
  $("legend").innerHTML = names.length ? names.map((n, i) => `<span style="color:${COLORS[i % COLORS.length]}">■</span> ${escape(label[n] || n.slice(0, 8))}`).join(" &nbsp; ") : "no counts yet";
}

async function refreshHealth() {
  const health = await api("/6/health");
  $("health").innerHTML = health.parts.map((p) => `<span class="chip ${p.status}" title="${escape(p.error || "")}">${escape(p.name)}</span>`).join("");
}

async function refresh() {
  try {
    await refreshHealth();
    if (auth) {
      await refreshStreams();
      renderChart((await api("/6/monitoring/people_counts?minutes=60&interval_s=60")).series);
      await Promise.all([refreshEvents(), refreshLists().catch(() => {}), refreshTasks().catch(() => {})]);
    }
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    $("updated").textContent = "API: " + error.message;
  }
}
drawCanvas();
refresh();
setInterval(refresh, 3000);
