// Streamlit's component protocol (what streamlit-component-lib does), small enough to
// need no build step: announce readiness, receive "render" messages with the Python
// arguments, report the frame's height. Each view registers itself in DaskView.views.
window.DaskView = (() => {
  const views = {};
  const loaded = {};
  let current = null;

  function send(type, data) {
    window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
  }

  function setHeight(height) {
    send("streamlit:setFrameHeight", { height: Math.ceil(height) });
  }

  function load(view) {
    if (!loaded[view]) {
      loaded[view] = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = `${view}.js`;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`could not load ${view}.js`));
        document.head.appendChild(script);
      });
    }
    return loaded[view];
  }

  async function render(args) {
    await load(args.view);
    const root = document.getElementById("root");
    if (current !== args.view) {
      root.replaceChildren();
      current = args.view;
    }
    views[args.view](root, args, { setHeight });
  }

  function start() {
    window.addEventListener("message", (event) => {
      if (event.data && event.data.type === "streamlit:render") {
        render(event.data.args).catch((error) => {
          document.getElementById("root").textContent = String(error);
        });
      }
    });
    send("streamlit:componentReady", { apiVersion: 1 });
  }

  return { views, start, setHeight };
})();
