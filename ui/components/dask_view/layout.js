// DOT -> SVG text, laid out by Graphviz (viz.js, WebAssembly) in a Web Worker, so that a
// graph of thousands of tasks does not freeze the page; in the page itself where the
// browser allows no worker.
import { loadScript } from "./loader.js";

const VIZ = "vendor/viz-global.js";

let worker = null;
const waiting = new Map(); // request id -> { resolve, reject }
let nextRequest = 0;

function startWorker() {
  // A classic worker from a blob: a file of its own would be a second script to serve, and
  // the worker still loads the vendored Graphviz from this app, by its full address.
  const viz = new URL(VIZ, document.baseURI).href;
  const source = `importScripts(${JSON.stringify(viz)});
const ready = Viz.instance();
onmessage = async (event) => {
  const viz = await ready;
  try { postMessage({ id: event.data.id, svg: viz.renderString(event.data.dot, { format: "svg" }) }); }
  catch (error) { postMessage({ id: event.data.id, error: String(error) }); }
};`;
  const started = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
  started.onmessage = (event) => {
    const { id, svg, error } = event.data;
    const request = waiting.get(id);
    waiting.delete(id);
    if (error) request.reject(new Error(error));
    else request.resolve(svg);
  };
  started.onerror = (event) => {
    for (const request of waiting.values()) request.reject(new Error(event.message || "layout failed"));
    waiting.clear();
  };
  return started;
}

// The SVG text Graphviz draws for ``dot``.
export async function layOut(dot) {
  try {
    worker = worker || startWorker();
  } catch (error) {
    // No workers in this frame: lay out here, the page waits meanwhile.
    await loadScript(VIZ);
    const viz = await Viz.instance();
    return viz.renderString(dot, { format: "svg" });
  }
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, dot });
  });
}
