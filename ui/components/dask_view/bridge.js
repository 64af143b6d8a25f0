// Streamlit's component protocol (what streamlit-component-lib does), small enough to
// need no build step: announce readiness, receive "render" messages with the Python
// arguments, report the frame's height. The arguments' "view" picks the module that draws
// them, imported on its first render: each exports render(root, args, { setHeight }).

const VIEWS = {
  tasks: () => import("./tasks.js"),
  zoom: () => import("./zoom.js"),
};

const imported = new Map(); // view name -> Promise of its module
let current = null;

function send(type, data) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}

export function setHeight(height) {
  send("streamlit:setFrameHeight", { height: Math.ceil(height) });
}

function view(name) {
  if (!imported.has(name)) {
    imported.set(name, Object.hasOwn(VIEWS, name) ? VIEWS[name]() : Promise.reject(new Error(`no view named ${name}`)));
  }
  return imported.get(name);
}

async function render(args) {
  const module = await view(args.view);
  const root = document.getElementById("root");
  if (current !== args.view) {
    root.replaceChildren();
    current = args.view;
  }
  module.render(root, args, { setHeight });
}

export function start() {
  window.addEventListener("message", (event) => {
    if (event.data && event.data.type === "streamlit:render") {
      render(event.data.args).catch((error) => {
        document.getElementById("root").textContent = String(error);
      });
    }
  });
  send("streamlit:componentReady", { apiVersion: 1 });
}
