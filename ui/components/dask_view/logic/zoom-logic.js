// The pixel zoom's numbers and words: the app's address seen from the component's frame,
// what makes two pictures the same view, the cut's progress, the swipe's position and the
// pixel readout. No DOM here.

// A pixel may grow to this many screen pixels a side: large enough to read a pixel's
// neighbours one by one, and to point at one with the mouse.
export const MAX_PIXEL_SIDE = 64;
// How often the cut's progress is read, while there is one.
export const PROGRESS_MS = 1000;
// How long a tile may wait for the cut (OpenSeadragon's own limit is 30 s): a 64-MPix
// photo took about a minute on a busy 2-core server.
export const WAIT_FOR_CUT_MS = 10 * 60 * 1000;
// How far an arrow key moves the swipe line, as a share of the frame's width.
export const SWIPE_STEP = 0.02;

// The app's address as the visitor reached it, for a path within it: this frame is served
// by the app at <app>/component/<name>/index.html, so the tiles are at <app>/<path> on any
// host, behind any base path.
export function addressInApp(origin, pathname, path) {
  const base = pathname.slice(0, pathname.indexOf("/component/"));
  return `${origin}${base}/${path}`;
}

// Whether a picture's pyramid still lacks some fine levels (being cut in the background).
export function isPending(picture) {
  return picture.pyramid.ready_level < picture.pyramid.max_level;
}

// What the view shows, not how far its cut has come: a rerun of the page once the fine
// levels are done keeps the viewer as it is.
export function viewKey(args) {
  return JSON.stringify(
    [args.before, args.after].map((p) => [p.path, p.label, p.pyramid.width, p.pyramid.height]).concat(args.height),
  );
}

// Whether new pictures are as large as the ones shown (another clip range, say): then they
// open where the old ones were looked at, so that the same pixels can be compared.
export function sameSize(previous, next) {
  return ["width", "height"].every((side) => previous.pyramid[side] === next.pyramid[side]);
}

// Whether the cut goes on: not stopped, and some picture's progress not complete.
export function cutRunning(stopped, progress) {
  return !stopped && !progress.every((p) => p?.complete);
}

// The cut's progress over every pending picture, in whole percent: a complete one counts
// whole, one under way its share of tiles done, one not heard of yet nothing.
export function cutPercent(progress) {
  const done = progress.reduce((sum, p) => sum + (p?.complete ? 1 : p?.total ? p.done / p.total : 0), 0);
  return Math.floor((100 * done) / progress.length);
}

export function clampShare(share) {
  return Math.min(Math.max(share, 0), 1);
}

// The swipe's new share of the width after a key (null: a key it ignores).
export function swipeAfterKey(key, share) {
  const step = { ArrowLeft: -SWIPE_STEP, ArrowRight: SWIPE_STEP }[key];
  return step === undefined ? null : share + step;
}

// Where the "after" picture's clip starts, in its pixels: the swipe line's x in the
// picture, kept within its width.
export function clipLeft(x, width) {
  return Math.min(Math.max(x, 0), width);
}

// The readout under the mouse: the pixel (column, row) at ``point`` (full-resolution
// coordinates) of a picture of ``size`` {x, y}, drawn ``side`` screen pixels a side; ""
// outside the picture.
export function pixelReadout(point, size, side) {
  const column = Math.floor(point.x);
  const row = Math.floor(point.y);
  const inside = column >= 0 && row >= 0 && column < size.x && row < size.y;
  const scale = side >= 1 ? `${side.toFixed(1)} screen pixels a side` : `1 screen pixel for ${(1 / side).toFixed(1)} a side`;
  return inside ? `pixel (${column}, ${row}) of ${size.x} x ${size.y}, ${scale}` : "";
}
