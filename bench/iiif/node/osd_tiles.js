// Every tile URL OpenSeadragon's own IIIFTileSource asks for, from an info.json read on stdin:
//
//   node osd_tiles.js < info.json     # prints a JSON list of URLs, smallest level first
//
// It loads the openseadragon npm package's browser build in a bare VM context (just enough of
// window and document for the library to load; nothing is drawn), configures a IIIFTileSource as
// the viewer does with a fetched info.json, and lists getTileUrl for every tile of every level.
// bench/iiif checks its own walker (osd.py) against this before each session.
"use strict";

const fs = require("node:fs");
const vm = require("node:vm");

const noop = () => {};
const element = () => ({
  style: {},
  classList: { add: noop, remove: noop },
  appendChild: noop,
  setAttribute: noop,
  addEventListener: noop,
  removeEventListener: noop,
  getContext: () => null,
});
const window = {
  navigator: { userAgent: "Mozilla/5.0 Chrome/120", appVersion: "5.0", vendor: "Google" },
  location: { search: "", protocol: "http:" },
  document: {
    documentElement: element(),
    body: element(),
    createElement: element,
    addEventListener: noop,
    removeEventListener: noop,
    getElementsByTagName: () => [],
  },
  addEventListener: noop,
  removeEventListener: noop,
  setTimeout,
  clearTimeout,
  console,
  devicePixelRatio: 1,
  XMLHttpRequest: function XMLHttpRequest() {},
  Image: function Image() {},
};
window.window = window;
window.self = window;
const context = vm.createContext(window);
vm.runInContext(fs.readFileSync(require.resolve("openseadragon"), "utf8"), context);
const OpenSeadragon = context.OpenSeadragon;

const info = JSON.parse(fs.readFileSync(0, "utf8"));
const source = new OpenSeadragon.IIIFTileSource(OpenSeadragon.IIIFTileSource.prototype.configure(info, "", null));
const urls = [];
for (let level = source.minLevel; level <= source.maxLevel; level++) {
  const tiles = source.getNumTiles(level);
  for (let y = 0; y < tiles.y; y++) for (let x = 0; x < tiles.x; x++) urls.push(source.getTileUrl(level, x, y));
}
console.log(JSON.stringify({ version: OpenSeadragon.version.versionStr, urls }));
