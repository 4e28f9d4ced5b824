/* The city's street map, drawn on the phone from vector tiles the app serves itself.
 *
 * protomaps-leaflet (from npm) paints the tiles of `shelterwatch basemap build` with the style
 * that build wrote (/basemap/style.json) and street names in the bundled Noto Sans, so nothing
 * is asked of a third-party host. Once the map is shown, the service worker is asked to keep
 * every tile of the city, so the streets are still there without network. Without a basemap
 * app.js shows the district outline and says how to add streets. Loaded after app.js.
 */
"use strict";

const Basemap = (() => {
  const FONT = "Noto Sans";

  function loadFonts() {
    if (!self.FontFace || !document.fonts) return Promise.resolve();
    const faces = [];
    for (const weight of [400, 600]) {
      for (const [script, range] of [["cyrillic", "U+0301,U+0400-045F,U+0490-0491,U+04B0-04B1,U+2116"],
                                     ["latin", "U+0000-00FF,U+2000-206F,U+20AC,U+2122"]]) {
        const face = new FontFace(FONT,
          `url(/static/fonts/noto-sans-${script}-${weight}-normal.woff2) format("woff2")`,
          {weight: String(weight), unicodeRange: range});
        document.fonts.add(face);
        faces.push(face.load());
      }
    }
    return Promise.all(faces).catch(() => { /* labels fall back to the phone's own font */ });
  }

  function filterOf(rule) {
    return rule.kind ? (z, f) => f.props.kind === rule.kind : undefined;
  }

  function paintRules(style) {
    return style.paint.map((rule) => {
      const symbolizer = rule.type === "fill"
        ? new protomapsL.PolygonSymbolizer({fill: rule.fill, stroke: rule.stroke,
                                            width: rule.stroke ? 0.5 : 0, opacity: 1})
        : new protomapsL.LineSymbolizer({color: rule.color, width: protomapsL.linear(rule.width),
                                         dash: rule.dash, lineCap: "round", lineJoin: "round"});
      return {dataLayer: rule.layer, symbolizer, filter: filterOf(rule)};
    });
  }

  function labelRules(style) {
    return style.labels.map((rule) => {
      const options = {labelProps: [rule.text], fill: rule.fill, stroke: rule.halo, width: 2.5,
                       font: `${rule.weight} ${rule.size}px "${FONT}", sans-serif`};
      const symbolizer = rule.type === "line" ? new protomapsL.LineLabelSymbolizer(options)
        : new protomapsL.CenteredTextSymbolizer(options);
      return {dataLayer: rule.layer, symbolizer, minzoom: rule.minzoom};
    });
  }

  /* Ask the service worker to keep the whole city's tiles; it answers with how many it holds. */
  async function keepOffline(config) {
    if (!("serviceWorker" in navigator)) return;
    const registration = await navigator.serviceWorker.ready;
    navigator.serviceWorker.addEventListener("message", (e) => {
      if (e.data && e.data.type === "basemap-kept") {
        document.getElementById("map").dataset.basemapKept = String(e.data.tiles);
      }
    });
    if (registration.active) {
      registration.active.postMessage({type: "keep-basemap", index: config.index,
                                       tiles: config.tiles, style: config.style,
                                       gazetteer: config.gazetteer});
    }
  }

  /* The renderer is fetched only when there is a street map to draw. */
  function loadRenderer() {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/static/vendor/protomaps-leaflet.js";
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
  }

  async function show(config) {
    const el = document.getElementById("map");
    el.dataset.basemap = "loading";
    const fonts = loadFonts();
    await loadRenderer();
    const style = await (await fetch(config.style)).json();
    const layer = protomapsL.leafletLayer({
      url: config.tiles, maxDataZoom: config.maxZoom, maxZoom: 19,
      paintRules: paintRules(style), labelRules: labelRules(style),
      backgroundColor: style.background, attribution: config.attribution,
      tasks: [fonts],
    });
    layer.on("load", () => { el.dataset.basemap = "streets"; });
    layer.addTo(map).bringToBack();
    keepOffline(config).catch(() => { /* tiles stay in the browser's own cache */ });
  }

  return {show};
})();

if (CONFIG.basemap) {
  Basemap.show(CONFIG.basemap).catch(() => {
    document.getElementById("map").dataset.basemap = "failed";
  });
}
