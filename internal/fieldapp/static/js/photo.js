// Photos as evidence: scaled on the phone to what the server expects (by
// default the long edge at most 1600 px and about 300 KB of JPEG), with the
// capture time and the visit's GPS fix stamped as EXIF, and hashed over the
// exact bytes that will be uploaded (§15.3).
import { stampExif } from "./exif.js";

export const PHOTO_DEFAULTS = { maxEdge: 1600, targetBytes: 300 * 1024 };

export async function preparePhoto(file, { maxEdge = PHOTO_DEFAULTS.maxEdge, targetBytes = PHOTO_DEFAULTS.targetBytes, fix = null } = {}) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  let quality = 0.85;
  let blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
  while (blob.size > targetBytes && quality > 0.4) {
    quality -= 0.1;
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
  }
  // A camera's file is dated when it was taken; that is the capture time.
  const taken = new Date(file.lastModified || Date.now());
  const bytes = stampExif(new Uint8Array(await blob.arrayBuffer()), {
    taken, lat: fix ? fix.lat : undefined, lon: fix ? fix.lon : undefined, alt: fix && fix.altitude != null ? fix.altitude : undefined });
  const sha = await crypto.subtle.digest("SHA-256", bytes);
  return {
    blob: new Blob([bytes], { type: "image/jpeg" }),
    sha256: [...new Uint8Array(sha)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    size: bytes.length, type: "image/jpeg", width: w, height: h, taken: taken.toISOString(),
  };
}
