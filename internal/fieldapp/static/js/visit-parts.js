// The parts a cadre's visit form and an inspector's inspection form share:
// the visit's times, GPS fixes from the phone (with a clear warning when one
// is poor or old) and photos from the camera, scaled and stamped on the
// phone (photo.js) before they enter the outbox.
import { h, megabytes, localInput } from "./dom.js";
import { rfc3339 } from "./outbox.js";
import { preparePhoto } from "./photo.js";

// A fix is poor beyond 50 m and old beyond two minutes (the cadre is told).
const POOR_ACCURACY_M = 50;
const OLD_FIX_MS = 2 * 60 * 1000;

// getFix asks the phone where it is, with the accuracy and age the cadre
// is warned about.
function getFix() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("本机不支持定位"));
    navigator.geolocation.getCurrentPosition((p) => resolve({
      lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, altitude: p.coords.altitude, at: p.timestamp,
    }), (e) => reject(new Error(e.code === 1 ? "未允许定位，请在浏览器设置中允许" : "定位失败：" + e.message)),
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
}

function fixWarning(fix) {
  const w = [];
  if (fix.accuracy > POOR_ACCURACY_M) w.push("定位精度较差（±" + Math.round(fix.accuracy) + "米），请到开阔处重新定位");
  if (Date.now() - fix.at > OLD_FIX_MS) w.push("定位已过时（" + Math.round((Date.now() - fix.at) / 60000) + "分钟前），请重新定位");
  return w.join("；");
}

// gpsField is the 定位 section. Each fix is added to stamps (the visit's
// gps array, in the protocol's shape); lastFix() is the newest, which the
// photos taken after it are stamped with.
export function gpsField(stamps) {
  let lastFix = null;
  const out = h("p", { id: "gps-status", class: "gps" }, stamps.length ? "已定位 " + stamps.length + " 次" : "尚未定位");
  const locate = async () => {
    out.textContent = "正在定位…";
    out.className = "gps";
    try {
      const fix = await getFix();
      stamps.push({ lat: fix.lat, lon: fix.lon, accuracy: Math.max(0.1, Math.min(5000, fix.accuracy)), provider: "fused", mock: false, device_time: rfc3339(new Date(fix.at)) });
      lastFix = fix;
      const warn = fixWarning(fix);
      out.textContent = "已定位：±" + Math.round(fix.accuracy) + "米" + (warn ? "。" + warn : "");
      out.className = "gps " + (warn ? "warn" : "ok");
      out.dataset.accuracy = String(fix.accuracy);
    } catch (e) {
      out.textContent = e.message;
      out.className = "gps warn";
    }
  };
  const node = h("fieldset", {}, h("legend", {}, "定位"), out, h("button", { type: "button", class: "small", id: "locate", onclick: locate }, "重新定位"));
  return { node, locate, lastFix: () => lastFix };
}

// photoField is the 照片 section: earlier photos shown as kept, new ones
// prepared as they are taken. added holds the prepared photos, each with
// its new photo_id; rows() are them as the outbox's photo store keeps
// them, refs() as the visit's photos field names them.
export function photoField(earlier, lastFix) {
  const added = [];
  const thumbs = h("div", { class: "thumbs", id: "thumbs" }, (earlier || []).map(() => h("span", { class: "thumb old" }, "已有照片")));
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", multiple: true, id: "photo-input", onchange: async (e) => {
    const files = [...e.target.files];
    e.target.value = "";
    for (const f of files) {
      const slot = h("span", { class: "thumb" }, "处理中…");
      thumbs.append(slot);
      try {
        const p = await preparePhoto(f, { fix: lastFix() });
        added.push({ photo_id: crypto.randomUUID(), ...p });
        slot.replaceChildren(h("img", { src: URL.createObjectURL(p.blob), alt: "照片" }), h("small", {}, megabytes(p.size)));
        slot.dataset.ready = "true";
      } catch (err) {
        slot.textContent = "无法读取：" + err.message;
      }
    }
  } });
  return {
    node: h("fieldset", {}, h("legend", {}, "照片"), thumbs, h("label", { class: "button" }, "拍照", input)),
    rows: () => added.map(({ photo_id, blob, sha256, size, type }) => ({ photo_id, blob, sha256, size, type })),
    refs: () => [...(earlier || []), ...added.map((p) => ({ photo_id: p.photo_id, sha256: p.sha256 }))],
  };
}

// timeFields is the start and end of a visit, with a button that ends it
// now. read() gives them as the protocol writes them, or the reason they
// cannot be saved. The inputs show minutes; a time the cadre left as it
// was — the start the form opened with, the end 现在结束 set — keeps its
// seconds, and an end typed into the start's own minute is the start: the
// server refuses an end before the start, and 09:30 typed as the end of a
// visit begun at 09:30:41 would be one.
export function timeFields(v) {
  const start = h("input", { type: "datetime-local", name: "started_at", required: true, value: localInput(new Date(v.started_at)) });
  const end = h("input", { type: "datetime-local", name: "ended_at", value: v.ended_at ? localInput(new Date(v.ended_at)) : "" });
  let endedNow = v.ended_at ? new Date(v.ended_at) : null;
  const node = [
    h("div", { class: "row" }, h("label", {}, "开始时间", start), h("label", {}, "结束时间", end)),
    h("button", { type: "button", class: "small", id: "end-now", onclick: () => { endedNow = new Date(); end.value = localInput(endedNow); } }, "现在结束"),
  ];
  const exact = (input, kept) => (kept && !isNaN(kept) && localInput(kept) === input.value ? kept : new Date(input.value));
  const read = () => {
    const started = exact(start, v.started_at ? new Date(v.started_at) : null);
    let ended = end.value ? exact(end, endedNow) : null;
    if (isNaN(started)) return { error: "请填写走访开始时间" };
    if (ended && ended < started && localInput(ended) === localInput(started)) ended = started;
    if (ended && (ended < started || ended - started > 24 * 3600 * 1000)) return { error: "结束时间应在开始时间之后，且不超过24小时" };
    return {
      started_at: v.started_at && localInput(new Date(v.started_at)) === start.value ? v.started_at : rfc3339(started),
      ended_at: ended ? rfc3339(ended) : null,
    };
  };
  return { node, read };
}
