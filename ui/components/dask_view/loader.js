// The one loader of the component's classic scripts (the vendored libraries, which define
// the globals Viz, svgPanZoom and OpenSeadragon) and style sheets: each is added to the
// page once, however many views or renders ask for it, and every request for it gets the
// same promise, settled when it has loaded or failed. Addresses are relative to the
// component's page (index.html), like those in its style sheets.

const requested = new Map(); // full address -> Promise

function once(tag, address, attributes) {
  const url = new URL(address, document.baseURI).href;
  if (!requested.has(url)) {
    requested.set(url, new Promise((resolve, reject) => {
      const element = Object.assign(document.createElement(tag), attributes);
      element.onload = () => resolve();
      element.onerror = () => reject(new Error(`could not load ${address}`));
      document.head.appendChild(element);
    }));
  }
  return requested.get(url);
}

// A classic script, run once: resolves when it has run.
export function loadScript(src) {
  return once("script", src, { src });
}

// A style sheet: resolves when its rules apply.
export function loadStyle(href) {
  return once("link", href, { rel: "stylesheet", href });
}
