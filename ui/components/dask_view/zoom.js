// Pixel zoom: two tile pyramids (core/pyramid.py), before and after, in one OpenSeadragon
// viewer, the "after" picture clipped to the right of a swipe line the visitor drags.
// Zoomed in, pixels are drawn as squares (no smoothing) so that single pixels can be read.
// Tiles come from the app's own static folder; the viewer library and its button images
// from vendor/: nothing is fetched from another host. A pyramid may open with only its
// coarse levels on disk (ui/services/zoom_pyramids.py cuts the fine ones in the background): a tile not
// there yet is asked for again each time the cut moves on, the coarser tiles standing in
// meanwhile, and the cut's progress is shown.
//
// For the browser tests: window.daskZoom, the viewer and the swipe.
import { loadScript, loadStyle } from "./loader.js";
import {
  addressInApp, clampShare, clipLeft, cutPercent, cutRunning, isPending, MAX_PIXEL_SIDE, pixelReadout, PROGRESS_MS,
  sameSize, swipeAfterKey, viewKey, WAIT_FOR_CUT_MS,
} from "./logic/zoom-logic.js";

// The address of ``path`` within the app, as the visitor reached it.
function appUrl(path) {
  return addressInApp(window.location.origin, window.location.pathname, path);
}

function tileSource(picture, cut) {
  const p = picture.pyramid;
  const base = appUrl(picture.path);
  const source = new OpenSeadragon.TileSource({
    width: p.width,
    height: p.height,
    tileSize: p.tile_size,
    tileOverlap: 0,
    minLevel: p.min_level,
    maxLevel: p.max_level,
  });
  source.getTileUrl = (level, column, row) => `${base}/${level}/${column}_${row}.png`;
  if (isPending(picture)) {
    // OpenSeadragon's hook for fetching a tile: one of a level being cut that is not
    // there yet waits for the cut to move on, rather than failing (a failed tile is
    // never asked for again). Aborting is OpenSeadragon's own (userData.imageRequest).
    source.downloadTileStart = (context) => {
      const attempt = () => {
        const image = new Image();
        context.userData.imageRequest = image;
        image.onload = () => context.finish(image, null, "image");
        image.onerror = () => {
          if (cut.running()) cut.whenMoved(attempt);
          else context.fail(`no tile at ${context.src}`, null);
        };
        image.src = context.src;
      };
      attempt();
    };
  }
  return source;
}

function element(tag, className, parent, text) {
  const made = document.createElement(tag);
  made.className = className;
  if (text !== undefined) made.textContent = text;
  parent.appendChild(made);
  return made;
}

function build(root, args) {
  root.replaceChildren();
  const frame = element("div", "zoom-frame", root);
  frame.style.height = `${args.height}px`;
  const canvas = element("div", "zoom-viewer", frame);
  const line = element("div", "zoom-swipe", frame);
  line.tabIndex = 0;
  line.setAttribute("role", "slider");
  line.setAttribute("aria-label", "Swipe between before and after");
  line.setAttribute("aria-valuemin", "0");
  line.setAttribute("aria-valuemax", "100");
  element("div", "zoom-swipe-handle", line, "⇔");
  element("div", "zoom-label zoom-label-before", frame, `Before: ${args.before.label}`);
  element("div", "zoom-label zoom-label-after", frame, `After: ${args.after.label}`);
  const readout = element("div", "zoom-readout", frame, "");
  const pending = [args.before, args.after].filter(isPending);
  const cut = followCut(frame, pending);

  const viewer = OpenSeadragon({
    element: canvas,
    prefixUrl: "vendor/openseadragon-images/",
    drawer: "canvas", // draws the same in every browser, with or without a GPU
    imageSmoothingEnabled: false,
    maxZoomPixelRatio: MAX_PIXEL_SIDE,
    visibilityRatio: 0.2,
    showNavigator: true,
    navigatorPosition: "TOP_RIGHT",
    showRotationControl: false,
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    preserveImageSizeOnResize: true,
    crossOriginPolicy: false,
    timeout: pending.length ? WAIT_FOR_CUT_MS : 30000,
    tileSources: [{ tileSource: tileSource(args.before, cut) }, { tileSource: tileSource(args.after, cut) }],
  });
  const state = { viewer, cut, swipe: args.swipe ?? 0.5, key: args.key, sources: [args.before, args.after] };
  // What the visitor looked at last, for the next pictures to open on. Read as it
  // changes, not when the pictures are replaced: a frame Streamlit shrinks to nothing
  // while the page reruns has empty bounds then.
  viewer.addHandler("viewport-change", () => {
    const bounds = viewer.viewport.getBounds();
    if (bounds.width > 0 && bounds.height > 0) state.lookedAt = bounds;
  });

  function after() {
    return viewer.world.getItemCount() > 1 ? viewer.world.getItemAt(1) : null;
  }

  // The swipe line stays where the visitor put it on the screen; what it cuts through
  // the image changes as one pans and zooms, so the clip follows every frame.
  function clip() {
    const image = after();
    line.style.left = `${state.swipe * 100}%`;
    line.setAttribute("aria-valuenow", String(Math.round(state.swipe * 100)));
    if (!image) return;
    const x = image.viewerElementToImageCoordinates(
      new OpenSeadragon.Point(state.swipe * canvas.clientWidth, 0),
    ).x;
    const size = image.getContentSize();
    const left = clipLeft(x, size.x);
    // Only when it moved: a new clip asks for another frame, whose update would set it again.
    const current = image.getClip();
    if (!current || current.x !== left) image.setClip(new OpenSeadragon.Rect(left, 0, size.x - left, size.y));
  }
  state.clip = clip;
  viewer.addHandler("open", clip);
  viewer.addHandler("update-viewport", clip);
  viewer.addHandler("resize", clip);

  function moveTo(clientX) {
    const box = frame.getBoundingClientRect();
    state.swipe = clampShare((clientX - box.left) / box.width);
    clip();
    viewer.forceRedraw();
  }
  line.addEventListener("pointerdown", (event) => {
    line.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  line.addEventListener("pointermove", (event) => {
    if (line.hasPointerCapture(event.pointerId)) moveTo(event.clientX);
  });
  line.addEventListener("keydown", (event) => {
    const share = swipeAfterKey(event.key, state.swipe);
    if (share === null) return;
    const box = frame.getBoundingClientRect();
    moveTo(box.left + share * box.width);
    event.preventDefault();
  });

  // Which pixel is under the mouse, in full-resolution coordinates (column, row), and
  // how large pixels are drawn: kept up to date as the view zooms under a still mouse.
  let pointer = null;
  function readOut() {
    const image = after();
    if (!image || !pointer) {
      readout.textContent = "";
      return;
    }
    const point = image.viewerElementToImageCoordinates(new OpenSeadragon.Point(pointer.x, pointer.y));
    const side = image.viewportToImageZoom(viewer.viewport.getZoom(true));
    readout.textContent = pixelReadout(point, image.getContentSize(), side);
  }
  canvas.addEventListener("pointermove", (event) => {
    const box = canvas.getBoundingClientRect();
    pointer = { x: event.clientX - box.left, y: event.clientY - box.top };
    readOut();
  });
  canvas.addEventListener("pointerleave", () => {
    pointer = null;
    readOut();
  });
  viewer.addHandler("animation", readOut);
  return state;
}

// The cut of the pending pictures' fine levels, as their cutters report it (the
// progress.json beside their tiles): "Full resolution being prepared: 40 %" until every
// one is complete, and the tiles that wait for it asked for again whenever it moved on.
function followCut(frame, pending) {
  const cut = { stopped: false, waiting: [], progress: pending.map(() => null) };
  cut.running = () => cutRunning(cut.stopped, cut.progress);
  cut.whenMoved = (attempt) => cut.waiting.push(attempt);
  if (!pending.length) return cut;
  const caption = element("div", "zoom-progress", frame, "Full resolution being prepared…");
  async function poll() {
    if (cut.stopped) return;
    const now = await Promise.all(pending.map(async (picture, i) => {
      try {
        const response = await fetch(appUrl(`${picture.path}/progress.json`), { cache: "no-store" });
        return response.ok ? await response.json() : cut.progress[i];
      } catch (error) {
        return cut.progress[i]; // the server away for a moment: asked again next time
      }
    }));
    const moved = JSON.stringify(now) !== JSON.stringify(cut.progress);
    cut.progress = now;
    if (moved) cut.waiting.splice(0).forEach((attempt) => attempt());
    if (!cut.running()) {
      caption.remove();
      return;
    }
    caption.textContent = `Full resolution being prepared: ${cutPercent(now)} %`;
    setTimeout(poll, PROGRESS_MS);
  }
  poll();
  return cut;
}

export async function render(root, args, { setHeight }) {
  await loadStyle("zoom.css");
  await loadScript("vendor/openseadragon.min.js");
  const key = viewKey(args);
  if (!root.zoom || root.zoom.key !== key) {
    // New pictures of the same size (another clip range, say) open where the old ones
    // were looked at, so that the same pixels can be compared.
    const previous = root.zoom;
    const same = previous && sameSize(previous.sources[1], args.after);
    const bounds = same ? previous.lookedAt ?? null : null;
    if (previous) {
      previous.cut.stopped = true;
      previous.viewer.destroy();
    }
    root.zoom = build(root, { ...args, key, swipe: same ? previous.swipe : undefined });
    if (bounds) root.zoom.viewer.addOnceHandler("open", () => root.zoom.viewer.viewport.fitBounds(bounds, true));
    window.daskZoom = root.zoom; // for the browser tests: the viewer and the swipe
  }
  setHeight(args.height);
}
