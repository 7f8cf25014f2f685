// The talkinghead page: plain JavaScript, no build step. Options come from /v1/controls (the same
// fields as the CLI flags), renders go through POST /v1/videos, live mode through WS /v1/live.
"use strict";

const $ = (id) => document.getElementById(id);
let portraitBlob = null;   // the sample portrait, when picked
let recordedAudio = null;  // a microphone recording, when made
let controlSpecs = [];

async function loadControls() {
  controlSpecs = await (await fetch("/v1/controls")).json();
  const box = $("controls");
  for (const spec of controlSpecs) {
    const id = "opt-" + spec.name;
    const wrap = document.createElement("div");
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = spec.name.replaceAll("_", " ");
    const input = document.createElement("input");
    input.id = id;
    input.name = spec.name;
    if (spec.type === "bool") {
      input.type = "checkbox";
      input.checked = Boolean(spec.default);
    } else if (spec.type === "int" || spec.type === "float") {
      input.type = "number";
      input.step = spec.type === "int" ? "1" : "any";
      input.value = spec.default ?? "";
    } else {
      input.type = "text";
      input.value = spec.default ?? "";
    }
    const help = document.createElement("span");
    help.className = "help";
    help.id = id + "-help";
    help.textContent = spec.help;
    input.setAttribute("aria-describedby", help.id);
    wrap.append(label, input, help);
    box.append(wrap);
  }
}

function controlValues() {
  const values = {};
  for (const spec of controlSpecs) {
    const input = $("opt-" + spec.name);
    if (spec.type === "bool") values[spec.name] = input.checked;
    else if (input.value !== "") values[spec.name] = spec.type === "str" ? input.value : Number(input.value);
  }
  return values;
}

function portraitFile() {
  return $("portrait").files[0] || portraitBlob;
}

function showPreview(blob) {
  const img = $("portrait-preview");
  img.src = URL.createObjectURL(blob);
  img.hidden = false;
}

$("portrait").addEventListener("change", () => {
  portraitBlob = null;
  if ($("portrait").files[0]) showPreview($("portrait").files[0]);
});

$("use-sample").addEventListener("click", async () => {
  portraitBlob = await (await fetch("/v1/sample-portrait")).blob();
  $("portrait").value = "";
  showPreview(portraitBlob);
});

$("audio").addEventListener("change", () => { recordedAudio = null; $("record-status").textContent = ""; });

let recorder = null;
$("record").addEventListener("click", async () => {
  const button = $("record");
  if (recorder) { recorder.stop(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    $("record-status").textContent = "Microphone not available: " + err.message;
    return;
  }
  const parts = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => parts.push(e.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    recordedAudio = new Blob(parts, { type: recorder.mimeType });
    recorder = null;
    button.textContent = "Record from the microphone";
    button.setAttribute("aria-pressed", "false");
    $("record-status").textContent = "Recording ready.";
  };
  recorder.start();
  button.textContent = "Stop recording";
  button.setAttribute("aria-pressed", "true");
  $("record-status").textContent = "Recording...";
});

function setStatus(text) { $("status").textContent = text; }

function detail(body) {
  if (!body || body.detail === undefined) return "unknown error";
  if (typeof body.detail === "string") return body.detail;
  return body.detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
}

$("render-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const portrait = portraitFile();
  const audio = $("audio").files[0] || recordedAudio;
  if (!portrait) { setStatus("Choose a portrait (or use the sample)."); $("portrait").focus(); return; }
  const spoken = controlValues().text;
  if (!audio && !spoken) { setStatus("Choose an audio file, record one, or type a text."); $("audio").focus(); return; }
  if (audio && spoken) { setStatus("Give either audio or a text, not both."); $("audio").focus(); return; }
  if (!$("consent").checked) { setStatus("Please confirm consent first."); $("consent").focus(); return; }
  const form = new FormData();
  form.append("portrait", portrait, portrait.name || "portrait.png");
  if (audio) form.append("audio", audio, audio.name || "recording.webm");
  form.append("consent", "yes");
  for (const [name, value] of Object.entries(controlValues())) form.append(name, String(value));
  $("submit").disabled = true;
  $("video").hidden = true;
  $("download").hidden = true;
  setStatus("Uploading...");
  try {
    const response = await fetch("/v1/videos", { method: "POST", body: form });
    const body = await response.json();
    if (response.status === 429) {
      setStatus("The server is busy; try again in " + response.headers.get("Retry-After") + " s.");
    } else if (!response.ok) {
      setStatus("Could not render: " + detail(body));
    } else {
      await follow(body.id);
    }
  } catch (err) {
    setStatus("Network error: " + err.message);
  } finally {
    $("submit").disabled = false;
  }
});

async function follow(id) {
  const bar = $("progress");
  bar.hidden = false;
  for (;;) {
    const job = await (await fetch("/v1/videos/" + id)).json();
    bar.value = job.progress;
    if (job.status === "done") break;
    if (job.status === "failed" || job.status === "cancelled") {
      setStatus("Render " + job.status + ": " + job.error);
      bar.hidden = true;
      return;
    }
    setStatus(job.status === "queued" ? "Waiting in the queue..." :
      "Rendering: " + Math.round(job.progress * 100) + "%");
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.hidden = true;
  const url = "/v1/videos/" + id + "/file";
  const video = $("video");
  video.src = url;
  video.hidden = false;
  $("download").href = url;
  $("download").hidden = false;
  setStatus("Done: the video is ready to play or download.");
}

// Live mode: portrait bytes, then the set-up JSON, then float32 microphone chunks; JPEG frames come back.
let live = null;
$("live-start").addEventListener("click", async () => {
  const portrait = portraitFile();
  const say = (text) => { $("live-status").textContent = text; };
  if (!portrait) { say("Choose a portrait first."); return; }
  if (!$("consent").checked) { say("Please confirm consent first."); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) { say("Microphone not available: " + err.message); return; }
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const tap = context.createScriptProcessor(1024, 1, 1);
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/live");
  socket.binaryType = "arraybuffer";
  live = { stream, context, socket, tap };
  socket.onopen = async () => {
    socket.send(await portrait.arrayBuffer());
    socket.send(JSON.stringify({ consent: "yes", sample_rate: context.sampleRate, controls: controlValues() }));
    say("Preparing the portrait...");
  };
  let lastUrl = null;
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        say("Live: speak now.");
        source.connect(tap);
        tap.connect(context.destination);
        tap.onaudioprocess = (e) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(new Float32Array(e.inputBuffer.getChannelData(0)));
        };
      } else if (message.type === "error") {
        say("Live error: " + message.message);
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
  socket.onclose = () => { stopLive(); };
  $("live-start").disabled = true;
  $("live-stop").disabled = false;
});

function stopLive() {
  if (!live) return;
  const { stream, context, socket, tap } = live;
  live = null;
  tap.onaudioprocess = null;
  stream.getTracks().forEach((t) => t.stop());
  context.close();
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "end" }));
  $("live-start").disabled = false;
  $("live-stop").disabled = true;
}
$("live-stop").addEventListener("click", stopLive);

loadControls();
