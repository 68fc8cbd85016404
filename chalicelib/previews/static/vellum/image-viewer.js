// A zoomable IIIF viewer (OpenSeadragon) for the image the page names in data attributes.
"use strict";
(function () {
  var holder = document.getElementById("zoom");
  var viewer = OpenSeadragon({
    element: holder,
    tileSources: holder.dataset.info,
    prefixUrl: holder.dataset.icons,
    showNavigator: true,
    crossOriginPolicy: false
  });
  viewer.addHandler("open", function () { document.body.dataset.rendered = "image"; });
  viewer.addHandler("open-failed", function () { document.body.dataset.rendered = "failed"; });
})();
