// A minimal EXIF writer: the canvas that scales a photo drops its EXIF, and
// the server reads the capture time and place from it (§15.3: do not strip
// EXIF). stampExif puts an APP1 segment with DateTimeOriginal, its offset
// from UTC and, when the phone has a fix, the GPS position into a JPEG,
// right after its SOI.
// Little-endian TIFF, one IFD0 with an Exif and a GPS pointer.

function ascii(s) {
  return [...s].map((c) => c.charCodeAt(0)).concat([0]);
}

function rational(n, d) {
  return [n, d];
}

// dms writes a coordinate as degrees, minutes and seconds (1/10000 s).
function dms(v) {
  const a = Math.abs(v);
  const deg = Math.floor(a);
  const minF = (a - deg) * 60;
  const min = Math.floor(minF);
  const sec = Math.round((minF - min) * 60 * 10000);
  return [rational(deg, 1), rational(min, 1), rational(sec, 10000)];
}

// exifDate is EXIF's "YYYY:MM:DD HH:MM:SS" in the phone's local time.
export function exifDate(d) {
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + ":" + p(d.getMonth() + 1) + ":" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
}

// exifOffset is the phone's offset from UTC at d, as EXIF's OffsetTime
// tags write it ("+08:00"): the date alone is wall-clock time, which the
// server would otherwise read as Beijing time whatever the phone's zone.
export function exifOffset(d) {
  const m = -d.getTimezoneOffset();
  const a = Math.abs(m);
  const p = (n) => String(n).padStart(2, "0");
  return (m < 0 ? "-" : "+") + p(Math.floor(a / 60)) + ":" + p(a % 60);
}

// ifd encodes one IFD at offset start (from the TIFF header); entries are
// [tag, type, values]: type 2 ASCII (bytes), 4 LONG, 5 RATIONAL
// ([[n, d], …]), 1 BYTE. Returns the bytes, with values that do not fit
// in four bytes placed after the IFD.
function ifd(entries, start, next = 0) {
  const size = 2 + entries.length * 12 + 4;
  const head = new DataView(new ArrayBuffer(size));
  const extra = [];
  let extraOffset = start + size;
  head.setUint16(0, entries.length, true);
  entries.forEach(([tag, type, values], i) => {
    const o = 2 + i * 12;
    head.setUint16(o, tag, true);
    head.setUint16(o + 2, type, true);
    const count = type === 5 ? values.length : values.length;
    head.setUint32(o + 4, count, true);
    let bytes;
    if (type === 1 || type === 2) bytes = Uint8Array.from(values);
    else if (type === 4) {
      const dv = new DataView(new ArrayBuffer(4 * values.length));
      values.forEach((v, j) => dv.setUint32(j * 4, v, true));
      bytes = new Uint8Array(dv.buffer);
    } else {
      const dv = new DataView(new ArrayBuffer(8 * values.length));
      values.forEach(([n, d], j) => { dv.setUint32(j * 8, n, true); dv.setUint32(j * 8 + 4, d, true); });
      bytes = new Uint8Array(dv.buffer);
    }
    if (bytes.length <= 4) {
      bytes.forEach((b, j) => head.setUint8(o + 8 + j, b));
    } else {
      head.setUint32(o + 8, extraOffset, true);
      extra.push(bytes);
      extraOffset += bytes.length + (bytes.length % 2);
      if (bytes.length % 2) extra.push(new Uint8Array(1));
    }
  });
  head.setUint32(size - 4, next, true);
  return concat([new Uint8Array(head.buffer), ...extra]);
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// exifSegment builds the APP1 segment for a time and an optional fix.
export function exifSegment({ taken, lat, lon, alt }) {
  const date = ascii(exifDate(taken));
  // IFD0: ExifIFD pointer (0x8769), GPS pointer (0x8825): offsets filled below.
  const hasGPS = typeof lat === "number" && typeof lon === "number";
  const ifd0Count = hasGPS ? 3 : 2;
  const ifd0Size = 2 + ifd0Count * 12 + 4 + 20; // + the DateTime string (20 bytes)
  const exifStart = 8 + ifd0Size;
  const offset = ascii(exifOffset(taken));
  // DateTimeOriginal, DateTimeDigitized, then OffsetTime, OffsetTimeOriginal
  // and OffsetTimeDigitized (EXIF 2.31): tags in ascending order.
  const exifIFD = ifd([[0x9003, 2, date], [0x9004, 2, date], [0x9010, 2, offset], [0x9011, 2, offset], [0x9012, 2, offset]], exifStart);
  const gpsStart = exifStart + exifIFD.length;
  const ifd0 = ifd([
    [0x0132, 2, date], // DateTime
    [0x8769, 4, [exifStart]],
    ...(hasGPS ? [[0x8825, 4, [gpsStart]]] : []),
  ], 8);
  const parts = [new Uint8Array([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]), ifd0, exifIFD];
  if (hasGPS) {
    const gps = [
      [0x0000, 1, [2, 3, 0, 0]],
      [0x0001, 2, ascii(lat >= 0 ? "N" : "S")],
      [0x0002, 5, dms(lat)],
      [0x0003, 2, ascii(lon >= 0 ? "E" : "W")],
      [0x0004, 5, dms(lon)],
    ];
    if (typeof alt === "number") gps.push([0x0005, 1, [alt < 0 ? 1 : 0]], [0x0006, 5, [rational(Math.round(Math.abs(alt) * 100), 100)]]);
    parts.push(ifd(gps, gpsStart));
  }
  const tiff = concat(parts);
  const header = new Uint8Array([0xff, 0xe1, 0, 0, 0x45, 0x78, 0x69, 0x66, 0, 0]); // APP1, length, "Exif\0\0"
  const len = tiff.length + 8;
  header[2] = len >> 8;
  header[3] = len & 0xff;
  return concat([header, tiff]);
}

// stampExif returns the JPEG bytes with the segment after SOI (and after a
// JFIF APP0, which must come first), dropping any APP1 EXIF already there.
export function stampExif(jpeg, meta) {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error("不是 JPEG 图片");
  let o = 2;
  const keep = [jpeg.subarray(0, 2)];
  while (o + 4 <= jpeg.length && jpeg[o] === 0xff && (jpeg[o + 1] === 0xe0 || jpeg[o + 1] === 0xe1)) {
    const len = (jpeg[o + 2] << 8) | jpeg[o + 3];
    if (jpeg[o + 1] === 0xe0) keep.push(jpeg.subarray(o, o + 2 + len));
    o += 2 + len;
  }
  keep.push(exifSegment(meta), jpeg.subarray(o));
  return concat(keep);
}
