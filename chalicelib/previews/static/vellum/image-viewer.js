// A zoomable IIIF viewer (OpenSeadragon) for the image the page names in data attributes.
"use strict";
(function () {
  var holder = document.getElementById("zoom");
  // data-infos: a multi-page image's pages, in sequence with a strip of their thumbnails.
  var pages = holder.dataset.infos ? JSON.parse(holder.dataset.infos) : null;
  var viewer = OpenSeadragon({
    element: holder,
    tileSources: pages || holder.dataset.info,
    sequenceMode: Boolean(pages),
    showReferenceStrip: Boolean(pages),
    prefixUrl: holder.dataset.icons,
    showNavigator: true,
    crossOriginPolicy: false
  });
  viewer.addHandler("open", function () { document.body.dataset.rendered = "image"; });
  viewer.addHandler("open-failed", function () { document.body.dataset.rendered = "failed"; });
})();
