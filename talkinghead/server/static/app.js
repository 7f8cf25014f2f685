// The talkinghead web app: plain JavaScript, no build step, no request leaves this server.
// Every option widget is built from GET /v1/controls (generated from talkinghead.Controls, the spec the CLI
// uses too); renders go through POST /v1/videos, live mode through WS /v1/live.
"use strict";

const $ = (id) => document.getElementById(id);
const HISTORY_KEY = "talkinghead-history";
let portraitBlob = null;  // the sample portrait or a webcam snapshot, when picked
let speechBlob = null;    // the sample speech or a microphone recording, when made
let controlSpecs = [];
let playbackUrl = null;

// ---------- option widgets, from the server's spec ----------

function labelFor(spec, id) {
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = spec.label;
  return label;
}

function helpFor(spec, id, input) {
  const help = document.createElement("span");
  help.className = "help";
  help.id = id + "-help";
  help.textContent = spec.help;
  input.setAttribute("aria-describedby", help.id);
  return help;
}

function slider(spec, id, min, max, step, value) {
  const wrap = document.createElement("span");
  wrap.className = "slider";
  const input = document.createElement("input");
  Object.assign(input, { type: "range", id, min, max, step, value });
  const shown = document.createElement("output");
  shown.htmlFor = id;
  shown.id = id + "-value";
  shown.textContent = value;
  input.addEventListener("input", () => { shown.textContent = input.value; });
  wrap.append(input, shown);
  return [wrap, input];
}

function gazeWidget(spec) {
  // Two sliders (keyboard and screen readers) and a pad to click or drag (pointer): one value "yaw,pitch".
  const wrap = document.createElement("div");
  wrap.className = "field gaze";
  const title = document.createElement("span");
  title.className = "field-title";
  title.id = "opt-gaze-title";
  title.textContent = spec.label;
  const group = document.createElement("div");
  group.setAttribute("role", "group");
  group.setAttribute("aria-labelledby", title.id);
  const [yawMin, yawMax, step] = [spec.min, spec.max, spec.step];
  const [pitchMin, pitchMax] = spec.pitch_range;
  const [yawWrap, yaw] = slider(spec, "opt-gaze-yaw", yawMin, yawMax, step, spec.default[0]);
  const [pitchWrap, pitch] = slider(spec, "opt-gaze-pitch", pitchMin, pitchMax, step, spec.default[1]);
  const yawLabel = labelFor({ label: "Left / right" }, yaw.id);
  const pitchLabel = labelFor({ label: "Up / down" }, pitch.id);
  const pad = document.createElement("div");
  pad.className = "gaze-pad";
  pad.setAttribute("aria-hidden", "true");
  const dot = document.createElement("span");
  pad.append(dot);
  const place = () => {
    dot.style.left = ((yaw.value - yawMin) / (yawMax - yawMin)) * 100 + "%";
    dot.style.top = ((pitch.value - pitchMin) / (pitchMax - pitchMin)) * 100 + "%";
  };
  const fromPointer = (event) => {
    const box = pad.getBoundingClientRect();
    const fx = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
    const fy = Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1);
    yaw.value = Math.round(yawMin + fx * (yawMax - yawMin));
    pitch.value = Math.round(pitchMin + fy * (pitchMax - pitchMin));
    yaw.dispatchEvent(new Event("input"));
    pitch.dispatchEvent(new Event("input"));
  };
  pad.addEventListener("pointerdown", (e) => { pad.setPointerCapture(e.pointerId); fromPointer(e); });
  pad.addEventListener("pointermove", (e) => { if (e.buttons) fromPointer(e); });
  yaw.addEventListener("input", place);
  pitch.addEventListener("input", place);
  const sliders = document.createElement("div");
  sliders.append(yawLabel, yawWrap, pitchLabel, pitchWrap);
  group.append(pad, sliders);
  const help = helpFor(spec, "opt-gaze", yaw);
  pitch.setAttribute("aria-describedby", help.id);
  wrap.append(title, group, help);
  place();
  return wrap;
}

function widget(spec) {
  if (spec.type === "tuple") return gazeWidget(spec);
  const id = "opt-" + spec.name;
  const wrap = document.createElement("div");
  wrap.className = "field";
  let input;
  let shown = null;
  if (spec.content) {
    input = document.createElement("input");
    input.type = "file";
    input.accept = spec.name === "transcript_file" ? ".txt,text/plain" : ".json,application/json";
  } else if (spec.choices) {
    input = document.createElement("select");
    for (const choice of spec.choices) input.add(new Option(choice, choice, false, choice === spec.default));
  } else if (spec.type === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = Boolean(spec.default);
    wrap.classList.add("check");
  } else if (spec.name === "text") {
    input = document.createElement("textarea");
    input.rows = 3;
    input.placeholder = "Hello! I am a talking head.";
  } else if (spec.type === "float" && spec.group === "common" && spec.min !== null) {
    [shown, input] = slider(spec, id, spec.min, spec.max, spec.step, spec.default);
  } else {
    input = document.createElement("input");
    if (spec.type === "int" || spec.type === "float") {
      input.type = "number";
      input.inputMode = spec.type === "int" ? "numeric" : "decimal";
      input.step = spec.step ?? (spec.type === "int" ? "1" : "any");
      if (spec.min !== null) { input.min = spec.min; input.max = spec.max; }
    } else {
      input.type = "text";
    }
    input.value = spec.default ?? "";
    if (spec.suggestions) {
      const list = document.createElement("datalist");
      list.id = id + "-choices";
      for (const s of spec.suggestions) list.append(new Option(s));
      input.setAttribute("list", list.id);
      wrap.append(list);
    }
  }
  input.id = id;
  input.name = spec.name;
  const label = labelFor(spec, id);
  const help = helpFor(spec, id, input);
  if (spec.type === "bool") wrap.append(input, label, help);
  else wrap.append(label, shown || input, help);
  return wrap;
}

async function loadControls() {
  controlSpecs = await (await fetch("/v1/controls")).json();
  const boxes = { common: $("common-controls"), speech: $("speech-controls"), "speech-any": $("speech-any-controls"),
    "speech-recorded": $("speech-recorded-controls"), advanced: $("controls") };
  for (const spec of controlSpecs) boxes[spec.group].append(widget(spec));
}

function speechMode() {
  return document.querySelector("input[name=speech-mode]:checked").value;
}

// Values that differ from the defaults, as form strings; `forLive` leaves out what live mode does not take.
function controlValues(forLive = false) {
  const values = {};
  for (const spec of controlSpecs) {
    if (spec.content || (spec.group === "speech" && (forLive || speechMode() !== "text"))) continue;
    if (spec.group === "speech-any" && forLive) continue;  // live mode hears any language alike
    if (spec.group === "speech-recorded" && (forLive || speechMode() === "text")) continue;
    if (spec.type === "tuple") {
      const value = [Number($("opt-gaze-yaw").value), Number($("opt-gaze-pitch").value)];
      if (value[0] !== spec.default[0] || value[1] !== spec.default[1]) values[spec.name] = value.join(",");
      continue;
    }
    const input = $("opt-" + spec.name);
    if (spec.type === "bool") {
      if (input.checked !== spec.default) values[spec.name] = input.checked;
    } else if (input.value.trim() !== "" && input.value !== String(spec.default ?? "")) {
      values[spec.name] = spec.type === "str" ? input.value : Number(input.value);
    }
  }
  return values;
}

function contentFiles() {
  return controlSpecs.filter((s) => s.content).map((s) => [s.name, $("opt-" + s.name).files[0]])
    .filter(([, file]) => file);
}

// ---------- portrait ----------

function portraitFile() {
  return $("portrait").files[0] || portraitBlob;
}

function showPreview(blob) {
  const img = $("portrait-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  img.hidden = false;
  $("preview-empty").hidden = true;
}

$("portrait").addEventListener("change", () => {
  portraitBlob = null;
  if ($("portrait").files[0]) showPreview($("portrait").files[0]);
});

$("use-sample").addEventListener("click", async () => {
  portraitBlob = await (await fetch("/v1/sample-portrait")).blob();
  portraitBlob.name = "sample.png";
  $("portrait").value = "";
  showPreview(portraitBlob);
  $("portrait-status").textContent = "Using the sample portrait.";
});

let webcam = null;
$("webcam-button").addEventListener("click", async () => {
  const button = $("webcam-button");
  const view = $("webcam");
  if (webcam) {  // second press: take the snapshot
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [view.videoWidth, view.videoHeight];
    canvas.getContext("2d").drawImage(view, 0, 0);
    webcam.getTracks().forEach((t) => t.stop());
    webcam = null;
    view.hidden = true;
    button.textContent = "Webcam snapshot";
    button.setAttribute("aria-pressed", "false");
    canvas.toBlob((blob) => {
      portraitBlob = blob;
      portraitBlob.name = "webcam.png";
      $("portrait").value = "";
      showPreview(blob);
      $("portrait-status").textContent = "Using the webcam snapshot.";
    }, "image/png");
    return;
  }
  try {
    webcam = await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (err) {
    $("portrait-status").textContent = "Webcam not available: " + err.message;
    return;
  }
  view.srcObject = webcam;
  view.hidden = false;
  $("portrait-preview").hidden = true;
  $("preview-empty").hidden = true;
  await view.play();
  button.textContent = "Take the snapshot";
  button.setAttribute("aria-pressed", "true");
  $("portrait-status").textContent = "Webcam on: press Take the snapshot.";
});

// ---------- speech ----------

function showPlayback(blob) {
  const player = $("audio-playback");
  if (playbackUrl) URL.revokeObjectURL(playbackUrl);
  playbackUrl = blob ? URL.createObjectURL(blob) : null;
  player.hidden = !blob;
  if (blob) player.src = playbackUrl;
  else player.removeAttribute("src");
}

function speechFile() {
  const mode = speechMode();
  if (mode === "upload") return $("audio").files[0] || (speechBlob && speechBlob.sample ? speechBlob : null);
  if (mode === "record") return speechBlob && !speechBlob.sample ? speechBlob : null;
  return null;
}

for (const radio of document.querySelectorAll("input[name=speech-mode]")) {
  radio.addEventListener("change", () => {
    for (const mode of ["upload", "record", "text"]) $("mode-" + mode).hidden = mode !== speechMode();
    $("speech-recorded-controls").hidden = speechMode() === "text";  // typed text is its own transcript
    showPlayback(speechFile());
  });
}

$("audio").addEventListener("change", () => { speechBlob = null; showPlayback($("audio").files[0] || null); });

$("use-sample-speech").addEventListener("click", async () => {
  speechBlob = await (await fetch("/v1/sample-speech")).blob();
  speechBlob.name = "sample.flac";
  speechBlob.sample = true;
  $("audio").value = "";
  showPlayback(speechBlob);
});

let recorder = null;
$("record").addEventListener("click", async () => {
  const button = $("record");
  const say = (text) => { $("record-status").textContent = text; };
  if (recorder) { recorder.stop(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    say("Microphone not available: " + err.message);
    return;
  }
  const parts = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => parts.push(e.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    speechBlob = new Blob(parts, { type: recorder.mimeType });
    speechBlob.name = "recording.webm";
    recorder = null;
    button.textContent = "Record again";
    button.setAttribute("aria-pressed", "false");
    say("Recording ready: play it back below.");
    showPlayback(speechBlob);
  };
  recorder.start();
  button.textContent = "Stop recording";
  button.setAttribute("aria-pressed", "true");
  say("Recording... speak now.");
});

// ---------- render, progress, result, history ----------

function setStatus(text) { $("status").textContent = text; }

function detail(body) {
  if (!body || body.detail === undefined) return "unknown error";
  if (typeof body.detail === "string") return inWords(body.detail);
  return body.detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
}

// The server's messages name options as command-line flags ("--label-text ..."): on the page, the field's label.
function inWords(message) {
  return String(message).replace(/--([a-z][a-z-]*)/g, (flag, name) => {
    const spec = controlSpecs.find((s) => s.name === name.replaceAll("-", "_"));
    return spec ? "'" + spec.label + "'" : flag;
  });
}

function refuse(text, focus) {
  setStatus(text);
  if (focus) focus.focus();
}

$("render-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const portrait = portraitFile();
  const audio = speechFile();
  const values = controlValues();
  if (!portrait) return refuse("Choose a portrait (or use the sample).", $("portrait"));
  if (speechMode() === "text" && !values.text) return refuse("Type the text to say.", $("opt-text"));
  if (speechMode() !== "text" && !audio) {
    return refuse(speechMode() === "record" ? "Record some speech first." : "Choose an audio file (or use the sample).",
      speechMode() === "record" ? $("record") : $("audio"));
  }
  if (!$("consent").checked) return refuse("Please confirm consent first.", $("consent"));
  const form = new FormData();
  form.append("portrait", portrait, portrait.name || "portrait.png");
  if (audio) form.append("audio", audio, audio.name || "speech.webm");
  form.append("consent", "yes");
  for (const [name, value] of Object.entries(values)) form.append(name, String(value));
  for (const [name, file] of contentFiles()) form.append(name, file, file.name);
  $("submit").disabled = true;
  setStatus("Uploading...");
  try {
    const response = await fetch("/v1/videos", { method: "POST", body: form });
    const body = await response.json();
    if (response.status === 429) {
      setStatus("The server is busy; try again in " + response.headers.get("Retry-After") + " s.");
    } else if (!response.ok) {
      setStatus("Could not render: " + detail(body));
    } else {
      remember(body.id, audio ? audio.name || "speech" : "text: " + values.text.slice(0, 30));
      await follow(body.id);
    }
  } catch (err) {
    setStatus("Network error: " + err.message);
  } finally {
    $("submit").disabled = false;
  }
});

const STAGE_WORDS = { queued: "Waiting in the queue", "analysing speech": "Analysing speech",
  rendering: "Rendering", encoding: "Encoding the video" };

function describe(job, eta) {
  const percent = Math.round(job.progress * 100) + "%";
  if (job.stage === "rendering") {
    const frames = job.total_frames ? " frame " + job.frames + "/" + job.total_frames : "";
    return "Rendering" + frames + ": " + percent + (eta !== null ? ", about " + eta + " s left" : "");
  }
  if (job.stage === "analysing speech" && job.analysis_progress !== null && job.analysis_progress !== undefined) {
    return "Analysing speech: " + Math.round(job.analysis_progress * 100) + "% of the speech";
  }
  return (STAGE_WORDS[job.stage] || job.stage) + "... " + percent;
}

async function follow(id) {
  const bar = $("progress");
  bar.hidden = false;
  bar.removeAttribute("value");  // indeterminate until frames come
  for (;;) {
    const job = await (await fetch("/v1/videos/" + id)).json();
    if (job.status === "done") break;
    if (job.status === "failed" || job.status === "cancelled") {
      setStatus("Render " + job.status + ": " + inWords(job.error));
      bar.hidden = true;
      updateHistory(id, job.status);
      return;
    }
    if (job.frames > 0) bar.value = job.progress;
    const eta = job.eta_s === null || job.eta_s === undefined ? null : Math.ceil(job.eta_s);
    setStatus(describe(job, eta));
    await new Promise((r) => setTimeout(r, 400));
  }
  bar.value = 1;
  bar.hidden = true;
  await show(id);
  const box = $("video").getBoundingClientRect();
  if (box.top > innerHeight || box.bottom < 0) $("result").scrollIntoView({ block: "start" });
  updateHistory(id, "done");
  setStatus("Done: the video is ready to play or download.");
}

// The finished video with its captions (a WebVTT <track>, shown unless turned off) and what verify finds.
async function show(id) {
  const job = await (await fetch("/v1/videos/" + id)).json();
  const video = $("video");
  video.replaceChildren();
  video.src = job.file;
  if (job.captions) {
    const track = document.createElement("track");
    Object.assign(track, { kind: "captions", label: "Captions", src: job.captions, default: true,
      srclang: (job.controls.language || "en").split("-")[0] });
    video.append(track);
    track.addEventListener("load", showCaptions);
  }
  video.hidden = false;
  $("captions-row").hidden = !job.captions;
  $("captions-none").hidden = Boolean(job.captions);
  showCaptions();
  $("download").href = job.file;
  $("download").hidden = false;
  verify(id);
}

function showCaptions() {
  for (const track of $("video").textTracks) track.mode = $("captions-toggle").checked ? "showing" : "hidden";
}
$("captions-toggle").addEventListener("change", showCaptions);

const CHECK_WORDS = { watermark: "Invisible watermark", metadata: "MP4 metadata",
  manifest: "C2PA content credentials", label: "Visible label" };

async function verify(id) {
  const list = $("verify-findings");
  list.replaceChildren();
  $("verify").hidden = false;
  $("verify-status").textContent = "Checking the marks with talkinghead verify...";
  const response = await fetch("/v1/videos/" + id + "/verify");
  const report = await response.json();
  if (!response.ok) { $("verify-status").textContent = "Could not check: " + detail(report); return; }
  $("verify-status").textContent = report.talkinghead_provenance
    ? "Yes: talkinghead verify finds its marks (confidence " + report.confidence.toFixed(2) + ")."
    : "talkinghead verify finds none of its marks.";
  for (const finding of report.findings) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = (CHECK_WORDS[finding.check] || finding.check) + ": " + (finding.found ? "found" : "not found");
    const why = document.createElement("span");
    why.className = "help";
    why.textContent = finding.detail;
    item.dataset.check = finding.check;
    item.append(name, why);
    list.append(item);
  }
}

function history() {
  try { return JSON.parse(sessionStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}

function remember(id, what) {
  const items = history();
  items.unshift({ id, what, when: new Date().toLocaleTimeString(), status: "running" });
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, 20)));
  drawHistory();
}

function updateHistory(id, status) {
  const items = history().map((item) => (item.id === id ? { ...item, status } : item));
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(items));
  drawHistory();
}

function drawHistory() {
  const list = $("history");
  list.replaceChildren();
  for (const item of history()) {
    const entry = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = item.when + " - " + item.what + " (" + item.status + ")";
    entry.append(text);
    if (item.status === "done") {
      const play = document.createElement("button");
      play.type = "button";
      play.textContent = "Show";
      play.setAttribute("aria-label", "Show the render of " + item.when);
      play.addEventListener("click", () => show(item.id));
      const save = document.createElement("a");
      save.href = "/v1/videos/" + item.id + "/file";
      save.download = "";
      save.textContent = "Download";
      entry.append(" ", play, " ", save);
    }
    list.append(entry);
  }
  $("history-empty").hidden = list.children.length > 0;
}

// ---------- live mode: portrait bytes, the set-up JSON, then float32 microphone chunks; JPEGs come back ----------

let live = null;

function liveState(state, text) {
  const badge = $("live-state");
  badge.dataset.state = state;
  badge.textContent = { off: "Off", starting: "Starting", on: "Live", error: "Error" }[state];
  $("live-status").textContent = text;
  $("live-start").disabled = state === "starting" || state === "on";
  $("live-stop").disabled = !(state === "starting" || state === "on");
}

$("live-start").addEventListener("click", async () => {
  const portrait = portraitFile();
  if (!portrait) { liveState("off", "Choose a portrait first."); return; }
  if (!$("consent").checked) { liveState("off", "Please confirm consent first."); return; }
  liveState("starting", "Asking for the microphone...");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) { liveState("error", "Microphone not available: " + err.message); return; }
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const tap = context.createScriptProcessor(1024, 1, 1);
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/live");
  socket.binaryType = "arraybuffer";
  live = { stream, context, socket, tap, failed: false };
  socket.onopen = async () => {
    socket.send(await portrait.arrayBuffer());
    socket.send(JSON.stringify({ consent: "yes", sample_rate: context.sampleRate, controls: controlValues(true) }));
    liveState("starting", "Preparing the portrait...");
  };
  let lastUrl = null;
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "ready" && live) {
        liveState("on", "Live: speak now.");
        source.connect(tap);
        tap.connect(context.destination);
        tap.onaudioprocess = (e) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(new Float32Array(e.inputBuffer.getChannelData(0)));
        };
      } else if (message.type === "error") {
        if (live) live.failed = true;
        stopLive("error", "Live error: " + inWords(message.message));
      }
      return;
    }
    const jpeg = new Blob([new Uint8Array(event.data, 12)], { type: "image/jpeg" });
    const img = $("live-frame");
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(jpeg);
    img.src = lastUrl;
    img.hidden = false;
  };
  socket.onclose = () => { if (live && !live.failed) stopLive("off", "Live ended."); };
});

function stopLive(state = "off", text = "Live stopped.") {
  if (live) {
    const { stream, context, socket, tap } = live;
    live = null;
    tap.onaudioprocess = null;
    stream.getTracks().forEach((t) => t.stop());
    context.close();
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "end" }));
  }
  liveState(state, text);
}
$("live-stop").addEventListener("click", () => stopLive());

drawHistory();
loadControls();
